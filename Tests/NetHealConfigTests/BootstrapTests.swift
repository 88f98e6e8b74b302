import NetHealConfig
import NetHealCore
import Testing

@Suite("fleet bootstrap: node list, generated files, keys")
struct BootstrapTests {
    static let list = """
        # name  data[,mgmt]  [failure domain]
        n1 198.18.1.11,198.18.2.11 rack-a
        n2 198.18.1.12:7500,198.18.2.12   rack-a   # comment
        n3 2001:db8::13,[2001:db8:1::13]:7501

        n4\t198.18.1.14
        """

    static func key(_ byte: UInt8) -> String { PublicKeyText.prefix + Hex.encode([UInt8](repeating: byte, count: 32)) }

    @Test func nodeListParses() throws {
        let nodes = try BootstrapNodeList.parse(Self.list, path: "NODES.txt")
        #expect(nodes.map(\.name) == ["n1", "n2", "n3", "n4"])
        #expect(nodes.map(\.line) == [2, 3, 4, 6])
        #expect(nodes[0].addresses.map(\.description) == ["198.18.1.11:7474", "198.18.2.11:7474"])
        #expect(nodes[1].addresses.map(\.description) == ["198.18.1.12:7500", "198.18.2.12:7474"])
        #expect(nodes[2].addresses.map(\.description) == ["[2001:db8::13]:7474", "[2001:db8:1::13]:7501"])
        #expect(nodes.map(\.failureDomain) == ["rack-a", "rack-a", nil, nil])
    }

    @Test func nodeListProblemsNameFileLineAndColumn() {
        let text = """
            n1 198.18.1.11
            n1 198.18.1.12
            n2 198.18.1.11
            n3
            n4 host.example:7474
            n5 198.18.1.15 rack/a
            n6 198.18.1.16 rack-a extra
            n7 127.0.0.1
            """
        #expect {
            try BootstrapNodeList.parse(text, path: "NODES.txt")
        } throws: { error in
            let lines = (error as? ConfigProblems)?.problems.map(\.description) ?? []
            return lines == [
                "NODES.txt:2:1: name: duplicate node `n1` (first at line 1) — every node needs its own name",
                "NODES.txt:3:4: addresses: duplicate address 198.18.1.11:7474: already used by node `n1` (line 1) — every gossip address must be unique",
                "NODES.txt:4:1: missing the address after `n3` — write `NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN]`, e.g. `n1 198.18.1.11,198.18.2.11 rack-a`",
                "NODES.txt:5:4: addresses: bad address `host.example:7474`: `host.example` is not an IP address; host names are not resolved (gossip must not depend on DNS) — write the IP address",
                "NODES.txt:6:16: failure_domain: `rack/a` may contain only letters, digits, `.`, `_` and `-` — rename it",
                "NODES.txt:7:23: 4 fields, at most 3 expected — write `NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN]`, e.g. `n1 198.18.1.11,198.18.2.11 rack-a`",
                "NODES.txt:8:4: addresses: `127.0.0.1` is not a unicast address other nodes can reach — give the node's data or management address",
            ]
        }
        #expect(throws: ConfigProblems.self) { try BootstrapNodeList.parse("# nothing\n\n", path: "empty.txt") }
    }

    @Test func generatedFilesPassTheParsersOnceKeysAreIn() throws {
        let nodes = try BootstrapNodeList.parse(Self.list, path: "NODES.txt")
        let fleet = try BootstrapFleet.generate(
            nodes: nodes, defaults: BootstrapDefaults(clusterID: "prod-eu1"), source: "NODES.txt")
        #expect(fleet.nodeFiles.map(\.name) == ["n1", "n2", "n3", "n4"])
        let bytes = Array(fleet.clusterFile.utf8)
        #expect(try BootstrapKeys.pendingMembers(bytes, path: "cluster.yaml") == ["n1", "n2", "n3", "n4"])
        // With PENDING keys the cluster file is not valid…
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parseCluster(bytes, path: "cluster.yaml") }

        // …after the keys are filled in, it and every node file are.
        let keys = (1...4).map { CollectedKey(name: "n\($0)", key: Self.key(UInt8($0))) }
        let filled = try BootstrapKeys.fill(bytes, path: "cluster.yaml", keys: keys, rotate: false)
        #expect(filled.changes == (1...4).map { KeyChange.added(name: "n\($0)") })
        let cluster = try ConfigLoader.parseCluster(filled.bytes, path: "cluster.yaml")
        #expect(cluster.clusterID == "prod-eu1")
        #expect(cluster.members.map(\.name) == ["n1", "n2", "n3", "n4"])
        #expect(cluster.members[1].addresses.map(\.description) == ["198.18.1.12:7500", "198.18.2.12:7474"])
        #expect(cluster.members[0].publicKey == [UInt8](repeating: 1, count: 32))
        #expect(cluster.members.map(\.failureDomain) == ["rack-a", "rack-a", nil, nil])
        #expect(cluster.settings == HealSettings())
        // Comments and layout are kept: only the key lines changed.
        let before = fleet.clusterFile.split(separator: "\n", omittingEmptySubsequences: false)
        let after = String(decoding: filled.bytes, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(before.count == after.count)
        #expect(zip(before, after).filter { $0 != $1 }.allSatisfy { $0.0.contains("public_key: PENDING") })

        for (i, file) in fleet.nodeFiles.enumerated() {
            let node = try ConfigLoader.parseNode(Array(file.text.utf8), path: "/etc/netheal/node.yaml") {
                _ throws(ConfigProblems) in filled.bytes
            }
            #expect(node.node.member == file.name)
            #expect(node.memberIndex == MemberIndex(i))
            #expect(node.node.interface == "eth0")
            #expect(node.node.probeTargets.map(\.description) == ["gateway", "icmp 1.1.1.1", "icmp 9.9.9.9"])
            #expect(node.node.healAction.primary.kind == .ifupdown)
            #expect(node.node.mode == .dryRun)
            #expect(node.node.clusterFile == "/etc/netheal/cluster.yaml")
            #expect(node.node.secretKeyFile == "/etc/netheal/node.key")
        }
    }

    @Test func defaultsAreApplied() throws {
        let nodes = try BootstrapNodeList.parse("a 198.18.0.1\nnull 198.18.0.2\n", path: "N")
        let defaults = BootstrapDefaults(
            clusterID: "odd \"id\" \\ #1", interface: "bond0",
            anchors: [.tcp(try HostPort.parse("198.18.0.53:53").get())],
            healAction: .ipLink, mode: .heal)
        let fleet = try BootstrapFleet.generate(nodes: nodes, defaults: defaults, source: "N")
        let keys = [CollectedKey(name: "a", key: Self.key(7)), CollectedKey(name: "null", key: Self.key(8))]
        let cluster = try BootstrapKeys.fill(Array(fleet.clusterFile.utf8), path: "c", keys: keys, rotate: false).bytes
        #expect(try ConfigLoader.parseCluster(cluster, path: "c").clusterID == "odd \"id\" \\ #1")
        let node = try ConfigLoader.parseNode(Array(fleet.nodeFiles[1].text.utf8), path: "n") {
            _ throws(ConfigProblems) in cluster
        }
        #expect(node.node.member == "null")
        #expect(node.node.interface == "bond0")
        #expect(node.node.probeTargets.map(\.description) == ["gateway", "tcp 198.18.0.53:53"])
        #expect(node.node.healAction.primary.kind == .ipLink)
        #expect(node.node.mode == .heal)
        #expect(throws: ConfigProblems.self) {
            try BootstrapFleet.generate(nodes: nodes, defaults: BootstrapDefaults(clusterID: ""), source: "N")
        }
        #expect(throws: ConfigProblems.self) {
            try BootstrapFleet.generate(
                nodes: nodes, defaults: BootstrapDefaults(clusterID: "x", interface: "a/b"), source: "N")
        }
    }

    @Test func keysRefuseRotationUnknownMembersAndDuplicates() throws {
        let nodes = try BootstrapNodeList.parse("n1 198.18.0.1\nn2 198.18.0.2\nn3 198.18.0.3\n", path: "N")
        let text = try BootstrapFleet.generate(nodes: nodes, defaults: BootstrapDefaults(clusterID: "c"), source: "N")
            .clusterFile
        let one = try BootstrapKeys.fill(
            Array(text.utf8), path: "c.yaml", keys: [CollectedKey(name: "n1", key: Self.key(1))], rotate: false)
        #expect(try BootstrapKeys.pendingMembers(one.bytes, path: "c.yaml") == ["n2", "n3"])

        // Same key again: unchanged. A different key: refused without rotate, applied with it.
        let same = try BootstrapKeys.fill(
            one.bytes, path: "c.yaml", keys: [CollectedKey(name: "n1", key: Self.key(1))], rotate: false)
        #expect(same.changes == [.unchanged(name: "n1")])
        #expect(same.bytes == one.bytes)
        #expect(throws: ConfigProblems.self) {
            try BootstrapKeys.fill(
                one.bytes, path: "c.yaml", keys: [CollectedKey(name: "n1", key: Self.key(9))], rotate: false)
        }
        let rotated = try BootstrapKeys.fill(
            one.bytes, path: "c.yaml", keys: [CollectedKey(name: "n1", key: Self.key(9))], rotate: true)
        #expect(rotated.changes == [.rotated(name: "n1")])
        #expect(String(decoding: rotated.bytes, as: UTF8.self).contains("public_key: \(Self.key(9))\n"))

        // Unknown member (with suggestion), malformed key, a key another member has: all refused,
        // and nothing applies when one entry is bad.
        #expect {
            try BootstrapKeys.fill(
                one.bytes, path: "c.yaml",
                keys: [
                    CollectedKey(name: "n2", key: Self.key(2)),
                    CollectedKey(name: "m3", key: Self.key(3), file: "K", line: 2),
                ], rotate: false)
        } throws: { error in
            (error as? ConfigProblems)?.description == "K:2: m3: `m3` is not a member of c.yaml — did you mean `n3`?"
        }
        #expect(throws: ConfigProblems.self) {
            try BootstrapKeys.fill(
                one.bytes, path: "c.yaml", keys: [CollectedKey(name: "n2", key: "ed25519:abc")], rotate: false)
        }
        #expect {
            try BootstrapKeys.fill(
                one.bytes, path: "c.yaml", keys: [CollectedKey(name: "n2", key: Self.key(1))], rotate: false)
        } throws: { error in
            (error as? ConfigProblems)?.problems.contains { $0.message.contains("the same public key as member `n1`") }
                == true
        }
    }

    @Test func keysFileParses() throws {
        let keys = try BootstrapKeys.parseKeysFile(
            "# collected\nn1 \(Self.key(1))\n\nn2\t\(Self.key(2))  # from n2\n", path: "KEYS.txt")
        #expect(keys.map(\.name) == ["n1", "n2"])
        #expect(keys.map(\.line) == [2, 4])
        #expect {
            try BootstrapKeys.parseKeysFile("n1 \(Self.key(1))\nn1 \(Self.key(2))\nn3\n", path: "KEYS.txt")
        } throws: { error in
            (error as? ConfigProblems)?.problems.map { "\($0.file):\($0.line ?? 0)" } == ["KEYS.txt:2", "KEYS.txt:3"]
        }
    }

    @Test func layoutCheckFindsMissingAndStrayDirectoriesAndDivergingCopies() throws {
        let nodes = try BootstrapNodeList.parse("n1 198.18.0.1\nn2 198.18.0.2\nn3 198.18.0.3\n", path: "N")
        let master = Array(
            try BootstrapFleet.generate(nodes: nodes, defaults: BootstrapDefaults(clusterID: "c"), source: "N")
                .clusterFile.utf8)
        let listing = FleetDirectoryListing(
            path: "fleet/", clusterFile: master,
            nodes: [
                .init(name: "n2", hasNodeFile: true, clusterCopy: master + Array("# edited\n".utf8)),
                .init(name: "n1", hasNodeFile: true, clusterCopy: master),
                .init(name: "x9", hasNodeFile: true, clusterCopy: master),
            ])
        let (problems, pending) = BootstrapLayout.check(listing)
        #expect(pending == ["n1", "n2", "n3"])
        #expect(problems.map { "\($0.file)|\($0.field)" } == ["fleet|n3", "fleet/x9|"])
        #expect(BootstrapLayout.divergingCopies(listing) == ["n2"])
        #expect(listing.nodeFilePath("n1") == "fleet/n1/node.yaml")
        let noMaster = BootstrapLayout.check(FleetDirectoryListing(path: "f", clusterFile: nil, nodes: []))
        #expect(noMaster.problems.map(\.file) == ["f/cluster.yaml"])
    }

    @Test func appendedMemberGetsTheNextIndexAndKeepsTheRest() throws {
        let nodes = try BootstrapNodeList.parse("n1 198.18.0.1\nn2 198.18.0.2\n", path: "N")
        let text = try BootstrapFleet.generate(nodes: nodes, defaults: BootstrapDefaults(clusterID: "c"), source: "N")
            .clusterFile
        let new = try BootstrapNodeList.parse("n3 198.18.0.3,198.18.1.3 rack-z", path: "cmd")[0]
        let appended = try BootstrapMembers.append(new, to: Array(text.utf8), path: "c.yaml")
        #expect(try BootstrapKeys.pendingMembers(appended, path: "c.yaml") == ["n1", "n2", "n3"])
        let keys = (1...3).map { CollectedKey(name: "n\($0)", key: Self.key(UInt8($0))) }
        let cluster = try ConfigLoader.parseCluster(
            try BootstrapKeys.fill(appended, path: "c.yaml", keys: keys, rotate: false).bytes, path: "c.yaml")
        #expect(cluster.members.map(\.name) == ["n1", "n2", "n3"])
        #expect(cluster.members[2].addresses.map(\.description) == ["198.18.0.3:7474", "198.18.1.3:7474"])
        #expect(cluster.members[2].failureDomain == "rack-z")
        // Only lines were added, right after the last member; the protocol section is untouched.
        let after = String(decoding: appended, as: UTF8.self)
        #expect(
            after.replacingOccurrences(
                of:
                    "  - name: n3\n    addresses: [\"198.18.0.3:7474\", \"198.18.1.3:7474\"]\n    public_key: PENDING\n    failure_domain: rack-z\n",
                with: "") == text)
        #expect(
            after.hasSuffix(
                "protocol:\n  # Fleet-wide off switch: true makes every node only log and show \"would heal\".\n  dry_run: false\n"
            ))

        // members as the last key, other indentation; a duplicate address; a flow list.
        let plain =
            "cluster_id: x\nmembers:\n- name: a\n  addresses: [\"198.18.0.1:1\"]\n  public_key: \(Self.key(1))\n# end\n"
        let b = try BootstrapNodeList.parse("b 198.18.0.2", path: "cmd")[0]
        let plainAppended = String(
            decoding: try BootstrapMembers.append(b, to: Array(plain.utf8), path: "p"), as: UTF8.self)
        #expect(
            plainAppended
                == "cluster_id: x\nmembers:\n- name: a\n  addresses: [\"198.18.0.1:1\"]\n  public_key: \(Self.key(1))\n- name: b\n  addresses: [\"198.18.0.2:7474\"]\n  public_key: PENDING\n# end\n"
        )
        let clash = try BootstrapNodeList.parse("c 198.18.0.1:1", path: "cmd")[0]
        #expect(throws: ConfigProblems.self) { try BootstrapMembers.append(clash, to: Array(plain.utf8), path: "p") }
        let flow =
            "cluster_id: x\nmembers: [{name: a, addresses: [\"198.18.0.1:1\"], public_key: \"\(Self.key(1))\"}]\n"
        #expect(throws: ConfigProblems.self) { try BootstrapMembers.append(b, to: Array(flow.utf8), path: "p") }
    }
}
