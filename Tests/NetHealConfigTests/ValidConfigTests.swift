import Foundation
import NetHealConfig
import NetHealCore
import Testing

@Suite("valid configuration files")
struct ValidConfigTests {
    @Test func clusterFileFieldsAndDefaults() throws {
        let cluster = try Fixtures.parseCluster(Fixtures.cluster)
        #expect(cluster.clusterID == "test-fleet")
        #expect(cluster.members.map(\.name) == ["n1", "n2", "n3"])
        #expect(cluster.members[1].failureDomain == "rack-b")
        #expect(cluster.members[0].failureDomain == nil)
        #expect(cluster.addresses.map { $0.map(\.description) } == [
            ["198.18.1.1:7474", "198.18.2.1:7474"], ["198.18.1.2:7474", "[2001:db8::2]:7474"], ["198.18.1.3:7474"],
        ])
        #expect(cluster.addresses[1][1].host == "2001:db8::2")
        #expect(cluster.members[0].publicKey == [UInt8](repeating: 0xa1, count: 32))
        #expect(cluster.roster.index(named: "n3") == MemberIndex(2))
        #expect(cluster.roster.members[2].publicKey == [UInt8](repeating: 0xc3, count: 32))
        #expect(cluster.fileBytes == Array(Fixtures.cluster.utf8))

        var expected = HealSettings()
        expected.gossipInterval = .milliseconds(500)
        expected.failureRounds = 4
        expected.isolationPolicy = .hold
        #expect(cluster.settings == expected)
    }

    @Test func nodeFileJoinsItsClusterFile() throws {
        let config = try Fixtures.parseNode(Fixtures.node)
        #expect(config.memberIndex == MemberIndex(1))
        #expect(config.node.member == "n2")
        #expect(config.node.clusterFile == "/etc/netheal/cluster.yaml")
        #expect(config.node.secretKeyFile == "/etc/netheal/keys/node.key")
        #expect(config.node.interface == "eth0")
        #expect(config.node.probeTargets.map(\.description) == ["gateway", "icmp 198.18.0.1", "tcp [2001:db8::53]:53"])
        #expect(config.node.healAction.primary == NodeSettings.HealAction(kind: .ipLink, timeout: .seconds(30)))
        #expect(config.node.healAction.escalation == [
            NodeSettings.HealAction(kind: .ifupdown),
            NodeSettings.HealAction(kind: .command, argv: ["/usr/local/sbin/heal-net", "eth0"], timeout: .seconds(90)),
        ])
        #expect(config.node.healAction.escalateAfterFailures == 2)
        // The ladder reaches the core through the settings.
        #expect(config.settings.escalationSteps == 3)
        #expect(config.settings.escalationAfterFailures == 2)
        #expect(config.node.metricsListen?.description == "[::1]:9465")
        #expect(config.node.mode == .dryRun)
        #expect(config.settings.dryRun, "a dry-run node decides with dryRun set")
        #expect(config.cluster.settings.dryRun == false)
        // Defaults of the optional keys.
        #expect(config.node.stateDirectory == "/var/lib/netheal")
        #expect(config.node.controlSocket == "/run/netheal/control.sock")
        #expect(config.node.controlGroup == nil)
        #expect(config.node.logLevel == .info)
        #expect(config.ownAddresses.map(\.description) == ["198.18.1.2:7474", "[2001:db8::2]:7474"])
        #expect(config.clusterFileBytes == Array(Fixtures.cluster.utf8))
        #expect(config.roster.count == 3)
    }

    @Test func minimalNodeFileTakesDefaults() throws {
        let text = """
            cluster_file: /etc/netheal/cluster.yaml
            member: n1
            interface: enp3s0f1
            probe_targets: [gateway]
            heal_action: ifupdown
            """
        let config = try Fixtures.parseNode(text)
        #expect(config.memberIndex == MemberIndex(0))
        #expect(config.node.secretKeyFile == "/etc/netheal/node.key")
        #expect(config.node.healAction == NodeSettings.HealActionLadder(primary: NodeSettings.HealAction(kind: .ifupdown, timeout: .seconds(30))))
        #expect(config.settings.escalationSteps == 1)
        #expect(config.settings.escalationAfterFailures == 0, "no escalation steps: the ladder is off")
        #expect(config.node.mode == .heal)
        #expect(config.node.metricsListen == nil)
        #expect(config.settings.dryRun == false)
    }

    @Test func stringFieldsAreNotYAML11Booleans() throws {
        // `on`, `no`, `yes`, `off` are names here, not booleans; a plain `1` is a name too.
        let text = Fixtures.cluster
            .replacingOccurrences(of: "name: n1", with: "name: on")
            .replacingOccurrences(of: "name: n2", with: "name: no")
            .replacingOccurrences(of: "name: n3", with: "name: 1")
            .replacingOccurrences(of: "cluster_id: test-fleet", with: "cluster_id: yes")
        let cluster = try Fixtures.parseCluster(text)
        #expect(cluster.clusterID == "yes")
        #expect(cluster.members.map(\.name) == ["on", "no", "1"])
    }

    @Test func exampleFleetLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("cluster-config/example")
        let cluster = try ConfigLoader.loadCluster(path: example.appendingPathComponent("cluster.yaml").path)
        #expect(cluster.members.map(\.name) == ["n1", "n2", "n3", "n4", "n5"])
        #expect(cluster.members.allSatisfy { $0.addresses.count == 2 })
        #expect(Set(cluster.members.map(\.publicKey)).count == 5)
        // The example writes out every protocol setting; they must be the documented defaults.
        #expect(cluster.settings == HealSettings())
        for (i, name) in ["n1", "n2", "n3", "n4", "n5"].enumerated() {
            let node = try ConfigLoader.loadNode(path: example.appendingPathComponent("\(name).yaml").path)
            #expect(node.memberIndex == MemberIndex(i))
            #expect(node.cluster == cluster)
            #expect(node.node.secretKeyFile == "/etc/netheal/node.key")
            #expect(node.node.probeTargets.first == .gateway)
            #expect(node.node.probeTargets.contains(NodeSettings.ProbeTarget.icmp(IPAddress("1.1.1.1")!)))
        }
    }

    @Test func loadDetectsTheFileKind() throws {
        try Fixtures.withTemporaryDirectory { dir in
            try Fixtures.cluster.write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
            try Fixtures.node.replacingOccurrences(of: "secret_key_file: keys/node.key\n", with: "")
                .write(toFile: dir + "/node.yaml", atomically: true, encoding: .utf8)
            guard case .cluster(let cluster) = try ConfigLoader.load(path: dir + "/cluster.yaml") else {
                Issue.record("cluster file not recognised")
                return
            }
            #expect(cluster.path == dir + "/cluster.yaml")
            guard case .node(let node) = try ConfigLoader.load(path: dir + "/node.yaml") else {
                Issue.record("node file not recognised")
                return
            }
            #expect(node.node.clusterFile == dir + "/cluster.yaml", "relative cluster_file resolves next to the node file")
            #expect(node.cluster == cluster)
        }
    }
}

@Suite("docs/configuration.md examples")
struct DocumentationExampleTests {
    /// The ```yaml blocks of docs/configuration.md.
    static func yamlBlocks() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```yaml" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test func everyExampleIsValid() throws {
        let blocks = try Self.yamlBlocks()
        let cluster = try #require(blocks.first { $0.hasPrefix("cluster_id:") })
        #expect(throws: Never.self) { try Fixtures.parseCluster(cluster) }
        let nodes = blocks.filter { $0.hasPrefix("cluster_file:") }
        #expect(nodes.count == 1)
        for node in nodes {
            #expect(throws: Never.self) { try Fixtures.parseNode(node, cluster: cluster) }
        }
        // The heal_action fragment, inside a minimal node file.
        let fragments = blocks.filter { $0.hasPrefix("heal_action:") }
        #expect(fragments.count == 1)
        for fragment in fragments {
            let node = "cluster_file: cluster.yaml\nmember: n1\ninterface: eth0\nprobe_targets: [gateway]\n" + fragment
            #expect(throws: Never.self) { try Fixtures.parseNode(node, cluster: cluster) }
        }
    }
}
