import Foundation
import Testing

@testable import NetHealLab

@Suite("Lab topology, files and faults (pure)")
struct LabTopologyTests {
    let topology = try! LabTopology(runID: "t1", nodeCount: 5, management: true)

    @Test("names are unique, interface names fit IFNAMSIZ, namespaces carry the lab prefix")
    func names() throws {
        let interfaces = topology.nodes.flatMap {
            [$0.interface, $0.switchPort, $0.managementInterface, $0.managementSwitchPort]
        }
        #expect(Set(interfaces).count == interfaces.count)
        #expect(interfaces.allSatisfy { $0.utf8.count <= 15 })
        #expect(Set(topology.namespaces).count == topology.namespaces.count)
        #expect(topology.namespaces.allSatisfy { $0.hasPrefix("nhlab-t1-") })
        #expect(topology.nodes.map(\.name) == ["n1", "n2", "n3", "n4", "n5"])
        let big = try LabTopology(runID: "x", nodeCount: 200, management: true)
        #expect(big.nodes.last!.managementSwitchPort.utf8.count <= 15)
        #expect(big.nodes.last!.address == "198.18.0.210")
    }

    @Test("bad run ids and node counts are refused")
    func refused() {
        #expect(throws: LabError.self) { try LabTopology(runID: "UPPER", nodeCount: 5, management: false) }
        #expect(throws: LabError.self) { try LabTopology(runID: "toolong1", nodeCount: 5, management: false) }
        #expect(throws: LabError.self) { try LabTopology(runID: "a", nodeCount: 0, management: false) }
        #expect(throws: LabError.self) { try LabTopology(runID: "a", nodeCount: 201, management: false) }
    }

    @Test("every address the lab configures is in 198.18.0.0/15")
    func addresses() {
        var all = [
            LabTopology.gateway, LabTopology.standIn, LabTopology.routerUplinkAddress, LabTopology.upstreamAddress,
        ]
        all += topology.nodes.flatMap { [$0.address, $0.managementAddress] }
        for command in topology.setupCommands() {
            all += command.filter { $0.first?.isNumber == true && $0.contains(".") }.map {
                String($0.split(separator: "/")[0])
            }
        }
        for address in all {
            let octets = address.split(separator: ".").compactMap { Int($0) }
            #expect(octets.count == 4 && octets[0] == 198 && (octets[1] == 18 || octets[1] == 19), "\(address)")
        }
    }

    @Test("set-up never creates anything in the root namespace: every ip command names a lab namespace")
    func onlyLabNamespaces() {
        for command in topology.setupCommands() {
            #expect(command.first == "ip")
            let ns: String? =
                command[1] == "-n"
                ? command[2] : (command[1] == "netns" && ["add", "exec"].contains(command[2]) ? command[3] : nil)
            #expect(ns.map { topology.namespaces.contains($0) } == true, "\(command)")
            if let i = command.lastIndex(of: "netns"), i > 1 {
                #expect(topology.namespaces.contains(command[i + 1]), "veth peer goes to a lab namespace: \(command)")
            }
        }
    }

    @Test("ifupdown file: static address and gateway of the managed interface only")
    func interfacesFile() {
        let files = LabFiles(topology: topology)
        let text = files.interfacesFile(topology.nodes[1])
        #expect(text.contains("iface n2eth0 inet static"))
        #expect(text.contains("address 198.18.0.12/24"))
        #expect(text.contains("gateway 198.18.0.1"))
        #expect(!text.contains("mgmt"))
        #expect(files.ifupdownStateDirectory(topology.nodes[1]) == files.runMount(topology.nodes[1]) + "/network")
    }

    @Test("cluster and node files: both gossip paths, the gateway and the stand-in as only probe targets")
    func configFiles() {
        let files = LabFiles(topology: topology)
        let cluster = files.clusterYAML(
            publicKeys: (1...5).map { "ed25519:\(String(repeating: "\($0)", count: 64))" },
            protocolOverrides: [("min_heal_interval", "30s")])
        #expect(cluster.contains("cluster_id: lab-t1"))
        #expect(cluster.contains("addresses: [\"198.18.0.13:7474\", \"198.18.1.13:7474\"]"))
        #expect(cluster.contains("protocol:\n  min_heal_interval: 30s"))
        let node = files.nodeYAML(topology.nodes[0])
        #expect(node.contains("interface: n1eth0"))
        #expect(node.contains("  - gateway\n  - icmp 198.19.255.1\n"))
        #expect(node.contains("kind: ifupdown"))
        #expect(!node.contains("1.1.1.1") && !cluster.contains("1.1.1.1"))
    }

    @Test("the naive loop is the seed's loop with the stand-in, and nothing else")
    func naiveLoop() {
        let script = LabFleet.naiveLoopScript(interface: "n3eth0")
        #expect(script.contains("ping -c1 -W2 198.19.255.1"))
        #expect(script.contains("ifdown n3eth0; ifup n3eth0"))
        #expect(script.contains("sleep 30"))
        #expect(!script.contains("1.1.1.1"))
    }
}

@Suite("Lab faults (pure)")
struct LabFaultTests {
    let topology = try! LabTopology(runID: "t2", nodeCount: 5, management: true)

    @Test("partition: each side drops the other's data and management addresses, at its receivers")
    func partition() throws {
        let tables = try LabFault.partition(a: ["n1", "n2", "n3"], b: ["n4", "n5"]).nftTables(in: topology, table: "f")
        #expect(Set(tables.map(\.namespace)) == Set(topology.nodes.map(\.namespace)))
        let n1 = tables.first { $0.namespace == "nhlab-t2-n1" }!.script
        let n5 = tables.first { $0.namespace == "nhlab-t2-n5" }!.script
        #expect(n1.contains("ip saddr { 198.18.0.14, 198.18.1.14, 198.18.0.15, 198.18.1.15 } drop"))
        #expect(
            n5.contains(
                "ip saddr { 198.18.0.11, 198.18.1.11, 198.18.0.12, 198.18.1.12, 198.18.0.13, 198.18.1.13 } drop"))
    }

    @Test("one-way cut: rules only on the receiving side")
    func oneWay() throws {
        let tables = try LabFault.oneWay(from: ["n1"], to: ["n2", "n3"]).nftTables(in: topology, table: "f")
        #expect(tables.map(\.namespace) == ["nhlab-t2-n2", "nhlab-t2-n3"])
        #expect(tables.allSatisfy { $0.script.contains("ip saddr { 198.18.0.11, 198.18.1.11 } drop") })
    }

    @Test("upstream outage and rack uplink live in the router; loss uses numgen; flush wedge needs no nft")
    func routerFaults() throws {
        let outage = try LabFault.upstreamOutage.nftTables(in: topology, table: "f")
        #expect(outage.map(\.namespace) == ["nhlab-t2-r"])
        #expect(outage[0].script.contains("hook forward") && outage[0].script.contains("iifname \"rlan0\" drop"))
        let rack = try LabFault.rackUplink(nodes: ["n1", "n2"]).nftTables(in: topology, table: "f")
        #expect(rack[0].script.contains("ip saddr { 198.18.0.11, 198.18.0.12 } drop"))
        let loss = try LabFault.loss(percent: 30, nodes: ["n1"]).nftTables(in: topology, table: "f")
        #expect(loss[0].script.contains("numgen random mod 100 < 30 drop"))
        #expect(try LabFault.wedge(node: "n1", kind: .flush).nftTables(in: topology, table: "f").isEmpty)
        let drop = try LabFault.wedge(node: "n4", kind: .drop).nftTables(in: topology, table: "f")
        #expect(drop[0].namespace == "nhlab-t2-n4" && drop[0].script.contains("oifname \"n4eth0\" drop"))
    }

    @Test("command-line fault syntax")
    func parse() throws {
        #expect(try LabFault.parse("wedge:n2", topology: topology) == .wedge(node: "n2", kind: .flush))
        #expect(try LabFault.parse("wedge-drop:n2", topology: topology) == .wedge(node: "n2", kind: .drop))
        #expect(try LabFault.parse("upstream", topology: topology) == .upstreamOutage)
        #expect(
            try LabFault.parse("partition:n1,n2,n3|n4,n5", topology: topology)
                == .partition(a: ["n1", "n2", "n3"], b: ["n4", "n5"]))
        #expect(try LabFault.parse("oneway:n1|n2", topology: topology) == .oneWay(from: ["n1"], to: ["n2"]))
        #expect(
            try LabFault.parse("loss:30", topology: topology)
                == .loss(percent: 30, nodes: ["n1", "n2", "n3", "n4", "n5"]))
        #expect(throws: LabError.self) { try LabFault.parse("wedge:n9", topology: topology) }
        #expect(throws: LabError.self) { try LabFault.parse("loss:130", topology: topology) }
        #expect(throws: LabError.self) { try LabFault.parse("meteor", topology: topology) }
        #expect(throws: LabError.self) { try LabFault.parse("partition:n1", topology: topology) }
    }
}

@Suite("Lab parsers (pure)")
struct LabParserTests {
    @Test("ip monitor link lines: admin state and carrier; continuation lines ignored")
    func linkLines() {
        let up = LinkLine.parse(
            "80: t1eth0@if79: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default")
        #expect(up == LinkLine(interface: "t1eth0", adminUp: true, lowerUp: true, deleted: false))
        let down = LinkLine.parse(
            "[2026-11-21T12:43:35.025046] 80: t1eth0@if79: <BROADCAST,MULTICAST> mtu 1500 state DOWN")
        #expect(down == LinkLine(interface: "t1eth0", adminUp: false, lowerUp: false, deleted: false))
        let noCarrier = LinkLine.parse("80: t1eth0@if79: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN")
        #expect(noCarrier?.adminUp == true && noCarrier?.lowerUp == false)
        #expect(LinkLine.parse("Deleted 80: n1eth0@if3: <BROADCAST,MULTICAST> mtu 1500")?.deleted == true)
        #expect(LinkLine.parse("    link/ether c6:e3:96:a6:cb:ac brd ff:ff:ff:ff:ff:ff link-netns tst-b") == nil)
        #expect(LinkLine.parse("") == nil)
    }

    @Test("/proc status and stat: VmRSS and utime+stime, also with spaces in the command name")
    func procUsage() {
        let status = "Name:\tnetheal-cluster\nVmPeak:\t  100 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n"
        let stat = "4242 (netheal (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 1000 300"
        let usage = ProcessUsage.parse(status: status, stat: stat, ticksPerSecond: 100)
        #expect(usage?.rssKB == 12345)
        #expect(usage?.cpuSeconds == 3.0)
        #expect(ProcessUsage.parse(status: "Name: x\n", stat: stat, ticksPerSecond: 100) == nil)
    }

    @Test("status --json: state, rule, reason and diagnosis found at the top or nested")
    func agentStatus() {
        let json =
            #"{"diagnosis":"upstream outage: 5/5 fail upstream, LAN intact","self":{"decision":{"state":"hold","rule":"upstream-outage-hold","reason":"own probes fail"}}}"#
        let nested = AgentStatus(json: json)
        #expect(nested?.state == "hold")
        #expect(nested?.rule == "upstream-outage-hold")
        #expect(nested?.diagnosis == "upstream outage: 5/5 fail upstream, LAN intact")
        #expect(nested?.summary == "hold (upstream-outage-hold): own probes fail")
        #expect(AgentStatus(json: "not json") == nil)
    }
}

@Suite("Lab command runner")
struct LabCommandRunnerTests {
    @Test("a failing command is named in the error, with its exit status and stderr")
    func failureNamesCommand() {
        do {
            try LabCommandRunner().run(["ip", "-n", "nhlab-does-not-exist", "link", "show"])
            Issue.record("expected a failure")
        } catch let error as LabCommandError {
            #expect(error.description.contains("ip -n nhlab-does-not-exist link show"))
            #expect(error.status != 0)
            #expect(!error.stderr.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("output is returned; a missing program is a clear LabError")
    func output() throws {
        #expect(try LabCommandRunner().run(["echo", "hello"]) == "hello\n")
        #expect(try LabCommandRunner().run(["cat"], stdin: "piped") == "piped")
        #expect(throws: LabError.self) { try LabCommandRunner().run(["no-such-program-nhlab"]) }
    }
}

@Suite("Agent status JSON")
struct AgentStatusTests {
    @Test("the agent's layout: decision.state/rule/reason and the top-level diagnosis")
    func agentLayout() {
        let json =
            #"{"counters":{"healsStarted":0},"decision":{"state":"hold","rule":"upstream-outage-hold","reason":"own probes fail and 4 fresh peer(s) fail upstream too","evidence":{"probes":{"state":"x"}}},"diagnosis":"upstream outage: 5/5 fail upstream, LAN intact","heals":[{"reason":"old heal"}],"node":"n1"}"#
        let status = AgentStatus(json: json)
        #expect(status?.state == "hold")
        #expect(status?.rule == "upstream-outage-hold")
        #expect(status?.reason == "own probes fail and 4 fresh peer(s) fail upstream too")
        #expect(status?.diagnosis == "upstream outage: 5/5 fail upstream, LAN intact")
    }
}

@Suite("Agent status JSON: members")
struct AgentStatusMembersTests {
    @Test("members[].reach by name")
    func members() {
        let json =
            #"{"decision":{"state":"healthy"},"members":[{"name":"n1","reach":"self"},{"name":"n2","reach":"unreachable"},{"name":"n3","reach":"reachable"}]}"#
        let status = AgentStatus(json: json)
        #expect(status?.reach == ["n1": "self", "n2": "unreachable", "n3": "reachable"])
    }
}
