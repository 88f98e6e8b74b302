import NetHealConfig
import Testing

/// `ClusterConfiguration.compare(with:)`: what two differing copies of a cluster file mean for views.
@Suite("cluster copy comparison")
struct ClusterCopyComparisonTests {
    static let keyD = "ed25519:" + String(repeating: "d4", count: 32)
    static let keyE = "ed25519:" + String(repeating: "e5", count: 32)

    private func parse(_ text: String) throws -> ClusterConfiguration { try Fixtures.parseCluster(text) }

    @Test func everyStepOfAKeyRotationIsCompatibleWithTheNext() throws {
        let v1 = try parse(Fixtures.cluster)
        let v2 = try parse(Fixtures.replacing("public_key: \(Fixtures.keyB)", with: "public_key: \(Fixtures.keyB)\n    next_public_key: \(Self.keyD)", in: Fixtures.cluster))
        let v3 = try parse(Fixtures.replacing("public_key: \(Fixtures.keyB)", with: "public_key: \(Self.keyD)", in: Fixtures.cluster))
        for (a, b) in [(v1, v2), (v2, v1), (v2, v3), (v3, v2)] {
            let c = a.compare(with: b)
            #expect(c.viewsCompatible, "\(c.explanation)")
            #expect(c.findings.count == 1 && c.findings[0].hasPrefix("n2: keys differ but share ed25519:"), "\(c.findings)")
        }
        #expect(v1.compare(with: v2).findings[0].contains("share ed25519:b2b2b2b2…"))
        #expect(v2.compare(with: v3).findings[0].contains("share ed25519:d4d4d4d4…"))
        // Skipping step 2 or 3: no key in common, and the same count means a different member order.
        let skipped = v1.compare(with: v3)
        #expect(!skipped.viewsCompatible)
        #expect(skipped.findings[0] == "member 1 (`n2` / `n2`) has no key in common: its views are rejected across the copies (bad_signature)")
        #expect(skipped.findings[1].contains("never remove and add, reorder or replace members in one step"))
    }

    @Test func addingOrRemovingAMemberIsNeverCompatible() throws {
        let v1 = try parse(Fixtures.cluster)
        let added = try parse(Fixtures.replacing(
            "protocol:", with: "  - {name: n4, addresses: [\"198.18.1.4:7474\"], public_key: \(Self.keyE)}\nprotocol:", in: Fixtures.cluster))
        let c = v1.compare(with: added)
        #expect(!c.viewsCompatible)
        #expect(c.findings == ["3 vs 4 members (only there: n4): nodes holding different copies reject each other's views (member_count_mismatch) until one file is everywhere"])
        #expect(added.compare(with: v1).findings[0].hasPrefix("4 vs 3 members (only here: n4)"))
    }

    @Test func swappingTwoMembersIsFlagged() throws {
        let text = """
            cluster_id: test-fleet
            members:
              - {name: n1, addresses: ["198.18.1.1:7474"], public_key: \(Fixtures.keyA)}
              - {name: n2, addresses: ["198.18.1.2:7474"], public_key: \(Fixtures.keyB)}
            """
        let swapped = """
            cluster_id: test-fleet
            members:
              - {name: n2, addresses: ["198.18.1.2:7474"], public_key: \(Fixtures.keyB)}
              - {name: n1, addresses: ["198.18.1.1:7474"], public_key: \(Fixtures.keyA)}
            """
        let c = try parse(text).compare(with: try parse(swapped))
        #expect(!c.viewsCompatible)
        #expect(c.findings.count == 3)
        #expect(c.findings[2].contains("a reachability bit can be charged to the wrong member"))
    }

    @Test func settingsAndFormattingOnly() throws {
        let v1 = try parse(Fixtures.cluster)
        #expect(v1.compare(with: try parse(Fixtures.cluster + "\n# comment\n")).findings == ["only comments or formatting differ"])
        let slower = try parse(Fixtures.replacing("failure_rounds: 4", with: "failure_rounds: 5", in: Fixtures.cluster))
        let c = v1.compare(with: slower)
        #expect(c.viewsCompatible && c.findings == ["protocol settings differ: nodes decide by different rules meanwhile"])
    }
}
