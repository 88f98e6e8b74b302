import Foundation
import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealTestKit
import Testing

/// `next_public_key`: the second key a member may list while its key is rotated (docs/key-rotation.md).
@Suite("next_public_key")
struct NextPublicKeyTests {
    static let keyD = "ed25519:" + String(repeating: "d4", count: 32)

    /// The fixture with `line` inserted after n2's `public_key` line.
    private func withN2(_ line: String) -> String {
        Fixtures.replacing("    public_key: \(Fixtures.keyB)\n", with: "    public_key: \(Fixtures.keyB)\n    \(line)\n", in: Fixtures.cluster)
    }

    @Test func parsedIntoTheConfigurationAndTheRoster() throws {
        let cluster = try Fixtures.parseCluster(withN2("next_public_key: \(Self.keyD)"))
        let d = [UInt8](repeating: 0xd4, count: 32)
        #expect(cluster.members[1].nextPublicKey == d)
        #expect(cluster.members[1].keySlot(of: d) == .next)
        #expect(cluster.members[1].keySlot(of: [UInt8](repeating: 0xb2, count: 32)) == .current)
        #expect(cluster.members[0].nextPublicKey == nil && cluster.members[2].nextPublicKey == nil)
        #expect(cluster.roster.members[1].acceptedKeys == [[UInt8](repeating: 0xb2, count: 32), d])
        #expect(cluster.roster.members[0].acceptedKeys.count == 1)
    }

    @Test func malformedNextKeyIsReportedAtItsLine() {
        let text = withN2("next_public_key: ed25519:1234")
        expectProblem(
            Fixtures.clusterProblems(text), field: "members[1].next_public_key", line: Fixtures.line(of: "next_public_key", in: text),
            mentions: ["malformed public key", "expected 64 hex digits", "keygen"])
        let zero = withN2("next_public_key: ed25519:" + String(repeating: "0", count: 64))
        expectProblem(Fixtures.clusterProblems(zero), field: "members[1].next_public_key", line: Fixtures.line(of: "next_public_key", in: zero), mentions: ["all zeros"])
        let empty = withN2("next_public_key:")
        #expect(Fixtures.clusterProblems(empty).contains { $0.field == "members[1].next_public_key" })
    }

    @Test func nextKeyEqualToTheCurrentKeyIsAProblem() {
        let text = withN2("next_public_key: \(Fixtures.keyB.uppercased().replacingOccurrences(of: "ED25519:", with: "ed25519:"))")
        expectProblem(
            Fixtures.clusterProblems(text), field: "members[1].next_public_key", line: Fixtures.line(of: "next_public_key", in: text),
            mentions: ["equals this member's public_key", "keygen --out node.key.new"])
    }

    @Test func nextKeyOfAnotherMemberIsADuplicate() {
        // Another member's current key, listed before.
        let text = withN2("next_public_key: \(Fixtures.keyA)")
        expectProblem(
            Fixtures.clusterProblems(text), field: "members[1].next_public_key", line: Fixtures.line(of: "next_public_key", in: text),
            mentions: ["the same public key as member `n1` (line \(Fixtures.line(of: Fixtures.keyA, in: text)!))"])
        // Another member's current key, listed after: reported at the later line (n3's public_key).
        let later = withN2("next_public_key: \(Fixtures.keyC)")
        expectProblem(
            Fixtures.clusterProblems(later), field: "members[2].public_key", line: Fixtures.line(of: "    public_key: \(Fixtures.keyC)", in: later),
            mentions: ["the same public key as member `n2` (line \(Fixtures.line(of: "next_public_key", in: later)!))"])
        // Two members with the same next key.
        let both = Fixtures.replacing(
            "    public_key: \(Fixtures.keyC)\n", with: "    public_key: \(Fixtures.keyC)\n    next_public_key: \(Self.keyD)\n",
            in: withN2("next_public_key: \(Self.keyD)"))
        let lines = both.split(separator: "\n", omittingEmptySubsequences: false)
        let second = lines.lastIndex { $0.contains("next_public_key") }! + 1
        expectProblem(Fixtures.clusterProblems(both), field: "members[2].next_public_key", line: second, mentions: ["the same public key as member `n2`"])
    }

    @Test func unknownMemberKeyListsNextPublicKey() {
        let text = withN2("next_publickey: \(Self.keyD)")
        expectProblem(Fixtures.clusterProblems(text), field: "members[1].next_publickey", line: Fixtures.line(of: "next_publickey", in: text), mentions: ["did you mean `next_public_key`?"])
    }

    // MARK: The node's secret key

    /// A two-member cluster of real keys (n1 old key = test seed 0; n1 new key = test seed 100),
    /// optionally listing the new key, and a node file for n1 using `keyFile`.
    private func node(in dir: String, listNext: Bool, keyFile: String) throws -> NodeConfiguration {
        let old = try Ed25519Signer(seed: TestFleet.seed(for: 0))
        let new = try Ed25519Signer(seed: TestFleet.seed(for: 100))
        let other = try Ed25519Signer(seed: TestFleet.seed(for: 1))
        for (seed, file) in [(0, "node.key"), (100, "node.key.new"), (7, "stranger.key")]
        where !FileManager.default.fileExists(atPath: dir + "/" + file) {
            try SecretKeyFile.write(seed: TestFleet.seed(for: seed), to: dir + "/" + file)
        }
        let next = listNext ? ", next_public_key: \(PublicKeyText.format(new.publicKey))" : ""
        let cluster = """
            cluster_id: rot
            members:
              - {name: n1, addresses: ["198.18.1.1:7474"], public_key: \(PublicKeyText.format(old.publicKey))\(next)}
              - {name: n2, addresses: ["198.18.1.2:7474"], public_key: \(PublicKeyText.format(other.publicKey))}
            """
        let nodeText = "cluster_file: cluster.yaml\nmember: n1\nsecret_key_file: \(dir)/\(keyFile)\ninterface: eth0\nprobe_targets: [gateway]\nheal_action: ifupdown\n"
        return try ConfigLoader.parseNode(Array(nodeText.utf8), path: "/etc/netheal/node.yaml") { _ throws(ConfigProblems) in Array(cluster.utf8) }
    }

    private let derive: ([UInt8]) throws -> [UInt8] = { try Ed25519Signer(seed: $0).publicKey }

    @Test func aKeyMatchingEitherListedKeyLoadsAndSaysWhich() throws {
        try Fixtures.withTemporaryDirectory { dir in
            let current = try node(in: dir, listNext: true, keyFile: "node.key").loadMemberKey(derivePublicKey: derive)
            #expect(current == LoadedMemberKey(seed: TestFleet.seed(for: 0), slot: .current))
            let next = try node(in: dir, listNext: true, keyFile: "node.key.new").loadMemberKey(derivePublicKey: derive)
            #expect(next == LoadedMemberKey(seed: TestFleet.seed(for: 100), slot: .next))
        }
    }

    @Test func theNewKeyIsRefusedUntilTheClusterFileListsIt() throws {
        try Fixtures.withTemporaryDirectory { dir in
            let config = try node(in: dir, listNext: false, keyFile: "node.key.new")
            #expect {
                _ = try config.loadSecretKey(derivePublicKey: derive)
            } throws: { error in
                guard let error = error as? SecretKeyError else { return false }
                return error.reason == .mismatch && error.problem.message.contains("but member `n1` in /etc/netheal/cluster.yaml has ed25519:")
            }
        }
    }

    @Test func aThirdKeyIsAMismatchNamingBothListedKeys() throws {
        try Fixtures.withTemporaryDirectory { dir in
            let config = try node(in: dir, listNext: true, keyFile: "stranger.key")
            let new = PublicKeyText.format(try Ed25519Signer(seed: TestFleet.seed(for: 100)).publicKey)
            #expect {
                _ = try config.loadMemberKey(derivePublicKey: derive)
            } throws: { error in
                guard let error = error as? SecretKeyError else { return false }
                return error.reason == .mismatch && error.problem.message.contains("and next_public_key \(new)")
            }
        }
    }

    /// The cluster file example of docs/key-rotation.md is valid and lists n3's next key.
    @Test func documentationExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/key-rotation.md"), encoding: .utf8)
        let start = try #require(text.range(of: "```yaml\n"))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        let cluster = try Fixtures.parseCluster(String(text[start.upperBound..<end.lowerBound]))
        #expect(cluster.members.map { $0.nextPublicKey != nil } == [false, false, true])
    }
}
