import Foundation

/// A fault the lab can inject into the running fleet. Every fault is real: it changes addresses or
/// nft rules inside the lab namespaces, never anything in the root namespace.
public enum LabFault: Hashable, Sendable, CustomStringConvertible {
    /// How a wedged interface is broken.
    public enum WedgeKind: String, Hashable, Sendable, CaseIterable {
        /// `ip addr flush dev IF`: the address and with it the connected and default routes are gone
        /// (a lost DHCP lease). Repaired by `ifdown IF; ifup IF`.
        case flush
        /// All traffic on IF dropped (nft, in the node namespace) until the lab's link watcher sees
        /// the link go down and up again: a NIC that needs a reset.
        case drop
    }

    /// A node's managed interface is wedged: only a heal (interface cycle) repairs it.
    case wedge(node: String, kind: WedgeKind)
    /// The router stops answering the LAN (gateway and stand-in target): every node's probes fail,
    /// the LAN between the nodes keeps working.
    case upstreamOutage
    /// Only the stand-in target is unreachable: the router stops forwarding to and from it (the gateway still answers).
    case anchorOutage
    /// A rack uplink: the router drops everything from and to these nodes (their probes fail, the
    /// LAN between nodes keeps working).
    case rackUplink(nodes: [String])
    /// Symmetric partition: nodes in `a` and nodes in `b` no longer hear each other (data and
    /// management networks); the router stays reachable from both sides.
    case partition(a: [String], b: [String])
    /// One-way cut: packets from `from` to `to` are dropped (at the receivers only).
    case oneWay(from: [String], to: [String])
    /// Random loss of `percent` % of every packet received by the nodes (`numgen random`).
    case loss(percent: Int, nodes: [String])

    public var description: String {
        switch self {
        case .wedge(let node, let kind):
            "wedge \(node) (\(kind == .flush ? "address flushed: lost lease" : "all traffic dropped until the link cycles"))"
        case .upstreamOutage: "upstream outage (router dark: gateway and stand-in target unreachable, LAN intact)"
        case .anchorOutage: "anchor outage (stand-in target \(LabTopology.standIn) unreachable, gateway answers)"
        case .rackUplink(let nodes): "rack uplink failure ({\(nodes.joined(separator: ","))} cut off from the router)"
        case .partition(let a, let b): "partition {\(a.joined(separator: ","))} | {\(b.joined(separator: ","))}"
        case .oneWay(let from, let to): "one-way cut {\(from.joined(separator: ","))} -> {\(to.joined(separator: ","))}"
        case .loss(let percent, let nodes): "\(percent)% random loss into {\(nodes.joined(separator: ","))}"
        }
    }

    /// The nft tables that implement the fault: (namespace, table script). A fault is lifted by
    /// deleting its tables. Empty for `wedge(.flush)`, which is an address flush.
    public func nftTables(in topology: LabTopology, table: String) throws -> [(namespace: String, script: String)] {
        let hooks = "type filter hook"
        switch self {
        case .wedge(let name, let kind):
            guard kind == .drop else { return [] }
            let node = try topology.node(name)
            return [
                (
                    node.namespace,
                    """
                    table inet \(table) {
                        chain input { \(hooks) input priority -10; policy accept; iifname "\(node.interface)" drop; }
                        chain output { \(hooks) output priority -10; policy accept; oifname "\(node.interface)" drop; }
                    }

                    """
                )
            ]
        case .upstreamOutage:
            return [
                (
                    topology.routerNamespace,
                    """
                    table inet \(table) {
                        chain input { \(hooks) input priority -10; policy accept; iifname "\(topology.routerLAN)" drop; }
                        chain forward { \(hooks) forward priority -10; policy accept; iifname "\(topology.routerLAN)" drop; oifname "\(topology.routerLAN)" drop; }
                        chain output { \(hooks) output priority -10; policy accept; oifname "\(topology.routerLAN)" drop; }
                    }

                    """
                )
            ]
        case .anchorOutage:
            return [
                (
                    topology.routerNamespace,
                    """
                    table inet \(table) {
                        chain forward { \(hooks) forward priority -10; policy accept; ip daddr \(LabTopology.standIn) drop; ip saddr \(LabTopology.standIn) drop; }
                    }

                    """
                )
            ]
        case .rackUplink(let names):
            let set = try Self.addressSet(names, in: topology, management: false)
            return [
                (
                    topology.routerNamespace,
                    """
                    table inet \(table) {
                        chain input { \(hooks) input priority -10; policy accept; ip saddr \(set) drop; }
                        chain forward { \(hooks) forward priority -10; policy accept; ip saddr \(set) drop; ip daddr \(set) drop; }
                        chain output { \(hooks) output priority -10; policy accept; ip daddr \(set) drop; }
                    }

                    """
                )
            ]
        case .partition(let a, let b):
            return try Self.receiverDrops(from: b, to: a, in: topology, table: table)
                + Self.receiverDrops(from: a, to: b, in: topology, table: table)
        case .oneWay(let from, let to):
            return try Self.receiverDrops(from: from, to: to, in: topology, table: table)
        case .loss(let percent, let names):
            guard (1...100).contains(percent) else { throw LabError("loss percent \(percent) must be 1…100") }
            return try names.map { name in
                let node = try topology.node(name)
                return (
                    node.namespace,
                    """
                    table inet \(table) {
                        chain input { \(hooks) input priority -10; policy accept; iifname != "lo" numgen random mod 100 < \(percent) drop; }
                    }

                    """
                )
            }
        }
    }

    /// Tables in each receiver's namespace dropping packets whose source is one of `from`.
    static func receiverDrops(from: [String], to: [String], in topology: LabTopology, table: String) throws
        -> [(namespace: String, script: String)]
    {
        let set = try addressSet(from, in: topology, management: topology.management)
        return try to.map { name in
            let node = try topology.node(name)
            return (
                node.namespace,
                """
                table inet \(table) {
                    chain input { type filter hook input priority -10; policy accept; ip saddr \(set) drop; }
                }

                """
            )
        }
    }

    /// `{ a, b, … }`: the data (and management) addresses of the named nodes.
    static func addressSet(_ names: [String], in topology: LabTopology, management: Bool) throws -> String {
        guard !names.isEmpty else { throw LabError("a fault needs at least one node") }
        var addresses: [String] = []
        for name in names {
            let node = try topology.node(name)
            addresses.append(node.address)
            if management { addresses.append(node.managementAddress) }
        }
        return "{ " + addresses.joined(separator: ", ") + " }"
    }

    /// Parses the command-line form: `wedge:n1`, `wedge-drop:n1`, `upstream`, `anchor`,
    /// `rack:n1,n2`, `partition:n1,n2,n3|n4,n5`, `oneway:n1|n2,n3`, `loss:30` or `loss:30:n1,n2`.
    public static func parse(_ text: String, topology: LabTopology) throws -> LabFault {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        let list = { (s: String) in s.split(separator: ",").map { String($0) } }
        let groups = { (s: String) -> ([String], [String]) in
            let g = s.split(separator: "|").map(String.init)
            guard g.count == 2 else { throw LabError("`\(s)`: write two groups as `n1,n2|n3`") }
            return (list(g[0]), list(g[1]))
        }
        let fault: LabFault
        switch (parts.first ?? "", parts.count) {
        case ("wedge", 2): fault = .wedge(node: parts[1], kind: .flush)
        case ("wedge-drop", 2): fault = .wedge(node: parts[1], kind: .drop)
        case ("upstream", 1): fault = .upstreamOutage
        case ("anchor", 1): fault = .anchorOutage
        case ("rack", 2): fault = .rackUplink(nodes: list(parts[1]))
        case ("partition", 2):
            let (a, b) = try groups(parts[1])
            fault = .partition(a: a, b: b)
        case ("oneway", 2):
            let (a, b) = try groups(parts[1])
            fault = .oneWay(from: a, to: b)
        case ("loss", 2), ("loss", 3):
            guard let percent = Int(parts[1]) else {
                throw LabError("`\(text)`: loss takes a percentage, e.g. loss:30")
            }
            fault = .loss(percent: percent, nodes: parts.count == 3 ? list(parts[2]) : topology.nodes.map(\.name))
        default:
            throw LabError(
                "unknown fault `\(text)` — use wedge:n1, wedge-drop:n1, upstream, anchor, rack:n1,n2, "
                    + "partition:n1,n2,n3|n4,n5, oneway:n1|n2, loss:30[:n1,n2]")
        }
        _ = try fault.nftTables(in: topology, table: "check")
        if case .wedge(let node, _) = fault { _ = try topology.node(node) }
        return fault
    }
}
