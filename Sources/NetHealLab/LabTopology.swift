import Foundation

/// One lab node: its namespace, interfaces and addresses (all in 198.18.0.0/15).
public struct LabNode: Hashable, Sendable {
    /// 1-based position, also the member's position in the cluster file.
    public var number: Int
    /// Member name, e.g. `n1`.
    public var name: String
    /// Network namespace, e.g. `nhlab-k3x9-n1`.
    public var namespace: String
    /// The managed (data) interface inside the node namespace, e.g. `n1eth0`.
    public var interface: String
    /// Its peer in the switch namespace, enslaved to the bridge, e.g. `n1sw`.
    public var switchPort: String
    /// Data address, e.g. `198.18.0.11`.
    public var address: String
    /// The management interface (when the fleet has a management network), e.g. `n1mgmt`.
    public var managementInterface: String
    /// Its peer in the management switch namespace, e.g. `n1msw`.
    public var managementSwitchPort: String
    /// Management address, e.g. `198.18.1.11`.
    public var managementAddress: String
}

/// The lab's names and addresses, derived from a run id and a node count (pure).
///
/// ```
///  nhlab-RUN-n1 … nhlab-RUN-nN       node namespaces: nIeth0 198.18.0.(10+I)/24 (ifupdown),
///        │                           optional nImgmt 198.18.1.(10+I)/24
///  nhlab-RUN-sw   bridge br0          the LAN "switch" (nIsw ports + rsw)
///  nhlab-RUN-msw  bridge br0          optional management switch (nImsw ports)
///  nhlab-RUN-r    rlan0 198.18.0.1/24 the router: gateway on the LAN, forwards to its uplink
///                 rup0  198.19.0.1/30
///  nhlab-RUN-up   upl0  198.19.0.2/30 the upstream, with the stand-in target 198.19.255.1/32
///                                     (in place of 1.1.1.1) on its loopback
///  nhlab-RUN-x    xeth0 198.18.0.250/24 optional attacker host on the LAN (port xsw of the switch)
/// ```
public struct LabTopology: Hashable, Sendable {
    /// Every lab namespace name starts with this (`lab down --all` removes by it).
    public static let namespacePrefix = "nhlab-"
    /// The gateway address on the LAN (router side).
    public static let gateway = "198.18.0.1"
    /// The stand-in for an upstream anchor such as 1.1.1.1 (a dummy interface in the router namespace).
    public static let standIn = "198.19.255.1"
    /// LAN prefix length.
    public static let prefixLength = 24
    /// UDP port of gossip (every member).
    public static let gossipPort = 7474
    /// serf's gossip port (the comparison agent of `lab bench`).
    public static let serfPort = 7946
    /// Largest fleet (addresses .11 … .210 of each /24).
    public static let maximumNodes = 200

    /// Short unique id of this run (lowercase letters and digits, 1…6).
    public var runID: String
    /// The nodes, in member order.
    public var nodes: [LabNode]
    /// Whether nodes get a second (management) network.
    public var management: Bool
    /// Whether the LAN has an attacker host (`lab scenario hostile-flood`). Default false.
    public var attacker: Bool = false

    /// Validates and derives every name and address.
    public init(runID: String, nodeCount: Int, management: Bool, attacker: Bool = false) throws {
        guard (1...6).contains(runID.count), runID.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) else {
            throw LabError("run id `\(runID)` must be 1 to 6 lowercase letters or digits")
        }
        guard (1...Self.maximumNodes).contains(nodeCount) else {
            throw LabError("node count \(nodeCount) must be between 1 and \(Self.maximumNodes)")
        }
        self.runID = runID
        self.management = management
        self.attacker = attacker
        let prefix = Self.namespacePrefix + runID
        nodes = (1...nodeCount).map { i in
            LabNode(
                number: i, name: "n\(i)", namespace: "\(prefix)-n\(i)", interface: "n\(i)eth0", switchPort: "n\(i)sw",
                address: "198.18.0.\(10 + i)", managementInterface: "n\(i)mgmt", managementSwitchPort: "n\(i)msw",
                managementAddress: "198.18.1.\(10 + i)")
        }
    }

    /// A fresh random run id (4 characters).
    public static func randomRunID() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<4).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// The switch (LAN bridge) namespace.
    public var switchNamespace: String { Self.namespacePrefix + runID + "-sw" }
    /// The management switch namespace.
    public var managementSwitchNamespace: String { Self.namespacePrefix + runID + "-msw" }
    /// The router namespace (gateway + stand-in target).
    public var routerNamespace: String { Self.namespacePrefix + runID + "-r" }
    /// The router's LAN interface.
    public var routerLAN: String { "rlan0" }
    /// The router's uplink (a veth into the upstream namespace).
    public var routerUplink: String { "rup0" }
    /// The upstream namespace: the far end of the router's uplink, holding the stand-in target.
    public var upstreamNamespace: String { Self.namespacePrefix + runID + "-up" }
    /// The router's address on the uplink transfer network.
    public static let routerUplinkAddress = "198.19.0.1"
    /// The upstream's address on the uplink transfer network.
    public static let upstreamAddress = "198.19.0.2"

    /// The attacker namespace: a host on the LAN that is not a member (only with `attacker`).
    public var attackerNamespace: String { Self.namespacePrefix + runID + "-x" }
    /// The attacker's LAN interface.
    public var attackerInterface: String { "xeth0" }
    /// Its peer in the switch namespace, enslaved to the bridge.
    public var attackerSwitchPort: String { "xsw" }
    /// The attacker's address on the LAN (above every node's .11 … .210).
    public static let attackerAddress = "198.18.0.250"

    /// Every namespace of the run, nodes first.
    public var namespaces: [String] {
        nodes.map(\.namespace) + [switchNamespace, routerNamespace, upstreamNamespace]
            + (management ? [managementSwitchNamespace] : []) + (attacker ? [attackerNamespace] : [])
    }

    /// The node named `name`.
    public func node(_ name: String) throws -> LabNode {
        guard let node = nodes.first(where: { $0.name == name }) else {
            throw LabError("no lab node `\(name)` (nodes: \(nodes.map(\.name).joined(separator: ", ")))")
        }
        return node
    }

    /// The `ip`/`sysctl` commands that build the network, in order (ifupdown and nft come after).
    /// Interfaces are created directly inside the lab namespaces: nothing appears in the root namespace.
    public func setupCommands() -> [[String]] {
        var commands: [[String]] = []
        for ns in namespaces {
            commands.append(["ip", "netns", "add", ns])
            commands.append(["ip", "-n", ns, "link", "set", "lo", "up"])
            // No IPv6 in the lab: keeps router solicitations and DAD out of the figures.
            commands.append([
                "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ])
        }
        let sw = switchNamespace
        commands.append(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        commands.append(["ip", "-n", sw, "link", "set", "br0", "up"])
        commands.append([
            "ip", "-n", sw, "link", "add", "rsw", "type", "veth", "peer", "name", routerLAN, "netns", routerNamespace,
        ])
        commands.append(["ip", "-n", sw, "link", "set", "rsw", "master", "br0", "up"])
        let r = routerNamespace
        commands.append(["ip", "-n", r, "addr", "add", "\(Self.gateway)/\(Self.prefixLength)", "dev", routerLAN])
        commands.append(["ip", "-n", r, "link", "set", routerLAN, "up"])
        // The upstream: a namespace behind the router's uplink, holding the stand-in on its loopback.
        let up = upstreamNamespace
        commands.append([
            "ip", "-n", r, "link", "add", routerUplink, "type", "veth", "peer", "name", "upl0", "netns", up,
        ])
        commands.append(["ip", "-n", r, "addr", "add", Self.routerUplinkAddress + "/30", "dev", routerUplink])
        commands.append(["ip", "-n", r, "link", "set", routerUplink, "up"])
        commands.append(["ip", "-n", r, "route", "add", "\(Self.standIn)/32", "via", Self.upstreamAddress])
        commands.append(["ip", "netns", "exec", r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        commands.append(["ip", "-n", up, "addr", "add", Self.upstreamAddress + "/30", "dev", "upl0"])
        commands.append(["ip", "-n", up, "link", "set", "upl0", "up"])
        commands.append(["ip", "-n", up, "addr", "add", "\(Self.standIn)/32", "dev", "lo"])
        commands.append(["ip", "-n", up, "route", "add", "default", "via", Self.routerUplinkAddress])
        if attacker {
            let x = attackerNamespace
            commands.append([
                "ip", "-n", sw, "link", "add", attackerSwitchPort, "type", "veth", "peer", "name", attackerInterface,
                "netns", x,
            ])
            commands.append(["ip", "-n", sw, "link", "set", attackerSwitchPort, "master", "br0", "up"])
            commands.append([
                "ip", "-n", x, "addr", "add", "\(Self.attackerAddress)/\(Self.prefixLength)", "dev", attackerInterface,
            ])
            commands.append(["ip", "-n", x, "link", "set", attackerInterface, "up"])
        }
        if management {
            commands.append(["ip", "-n", managementSwitchNamespace, "link", "add", "br0", "type", "bridge"])
            commands.append(["ip", "-n", managementSwitchNamespace, "link", "set", "br0", "up"])
        }
        for node in nodes {
            commands.append([
                "ip", "-n", sw, "link", "add", node.switchPort, "type", "veth", "peer", "name", node.interface,
                "netns", node.namespace,
            ])
            commands.append(["ip", "-n", sw, "link", "set", node.switchPort, "master", "br0", "up"])
            if management {
                let msw = managementSwitchNamespace
                commands.append([
                    "ip", "-n", msw, "link", "add", node.managementSwitchPort, "type", "veth", "peer", "name",
                    node.managementInterface, "netns", node.namespace,
                ])
                commands.append(["ip", "-n", msw, "link", "set", node.managementSwitchPort, "master", "br0", "up"])
                commands.append([
                    "ip", "-n", node.namespace, "addr", "add", "\(node.managementAddress)/\(Self.prefixLength)",
                    "dev", node.managementInterface,
                ])
                commands.append(["ip", "-n", node.namespace, "link", "set", node.managementInterface, "up"])
            }
        }
        return commands
    }

    /// The per-namespace nft table the lab always installs in node namespaces: named counters of
    /// gossip bytes in and out (UDP port `gossipPort`), read for the figures.
    public static let counterTable = "nhlab"

    /// The nft script that creates the counter table.
    public static func counterRuleset() -> String {
        """
        table inet \(counterTable) {
            counter gossip_out { }
            counter gossip_in { }
            counter serf_out { }
            chain output {
                type filter hook output priority 0; policy accept;
                udp dport \(gossipPort) counter name gossip_out;
                meta l4proto { tcp, udp } th dport \(serfPort) counter name serf_out;
            }
            chain input { type filter hook input priority 0; policy accept; udp dport \(gossipPort) counter name gossip_in; }
        }

        """
    }
}
