import NetHealConfig
import Testing

/// Each test breaks the valid fixture in one way and checks the problem names the field, the line
/// and the fix.
@Suite("broken cluster files")
struct BrokenClusterTests {
    let base = Fixtures.cluster

    @Test func yamlSyntaxError() {
        let text = Fixtures.replacing(#"addresses: ["198.18.1.3:7474"]"#, with: #"addresses: ["198.18.1.3:7474""#, in: base)
        let problems = Fixtures.clusterProblems(text)
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("YAML syntax error") == true)
        // libyaml notices the unclosed flow sequence where the next token starts, after the line.
        #expect((problems.first?.line ?? 0) >= Fixtures.line(of: "198.18.1.3:7474", in: text)!)
        #expect(problems.first?.description.hasPrefix("cluster.yaml:") == true)
    }

    @Test func duplicateYAMLKeyIsReportedAtTheRepeat() {
        let text = base + "\ncluster_id: other\n"
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "cluster_id", line: Fixtures.line(of: "cluster_id: other", in: text), mentions: ["duplicate key", "first at line 1"])
    }

    @Test func duplicateKeyInAnotherQuotingIsStillADuplicate() {
        let text = base + "\n\"cluster_id\": other\n"
        expectProblem(Fixtures.clusterProblems(text), field: "cluster_id", line: Fixtures.line(of: "other", in: text), mentions: ["duplicate key", "first at line 1"])
    }

    @Test func unknownKeySuggestsTheClosest() {
        let text = Fixtures.replacing("  failure_rounds: 4", with: "  failure_round: 4", in: base)
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "protocol.failure_round", line: Fixtures.line(of: "failure_round:", in: text), mentions: ["unknown key", "did you mean `failure_rounds`?"])
        #expect(problems.count == 1)
    }

    @Test func unknownMemberKeyListsTheKnownOnes() {
        let text = Fixtures.replacing("    failure_domain: rack-b", with: "    rack: b", in: base)
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "members[1].rack", line: Fixtures.line(of: "rack: b", in: text), mentions: ["unknown key `rack`", "`failure_domain`"])
    }

    @Test func quotedNumberIsATypeError() {
        let text = Fixtures.replacing("failure_rounds: 4", with: #"failure_rounds: "4""#, in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "protocol.failure_rounds", line: Fixtures.line(of: "failure_rounds", in: text), mentions: ["expected an integer", "remove the quotes"])
    }

    @Test func listWhereAStringBelongsIsATypeError() {
        let text = Fixtures.replacing("cluster_id: test-fleet", with: "cluster_id: [a, b]", in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "cluster_id", line: 1, mentions: ["expected a string", "got a list"])
    }

    @Test func yaml11BooleanIsRefusedForABoolField() {
        let text = base + "\n  dry_run: yes\n"
        expectProblem(Fixtures.clusterProblems(text), field: "protocol.dry_run", line: Fixtures.line(of: "dry_run", in: text), mentions: ["write true or false"])
    }

    @Test func durationWithoutUnit() {
        let text = Fixtures.replacing("gossip_interval: 500ms", with: "gossip_interval: 500", in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "protocol.gossip_interval", line: Fixtures.line(of: "gossip_interval", in: text), mentions: ["has no unit", "500ms"])
    }

    @Test func duplicateMemberName() {
        let text = Fixtures.replacing("name: n3", with: "name: n1", in: base)
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "members[2].name", line: Fixtures.line(of: "public_key: \(Fixtures.keyB)", in: text)! + 2, mentions: ["duplicate member name `n1`", "first at line 3"])
    }

    @Test func duplicateAddressAcrossMembers() {
        let text = Fixtures.replacing(#"addresses: ["198.18.1.3:7474"]"#, with: #"addresses: ["198.18.2.1:7474"]"#, in: base)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).lastIndex { $0.contains("198.18.2.1:7474") }! + 1
        expectProblem(Fixtures.clusterProblems(text), field: "members[2].addresses[0]", line: line, mentions: ["duplicate address 198.18.2.1:7474", "member `n1` (line 4)"])
    }

    @Test func duplicateAddressInOtherSpelling() {
        // The same IPv6 address written differently is still the same address.
        let text = Fixtures.replacing(#"addresses: ["198.18.1.3:7474"]"#, with: #"addresses: ["[2001:0db8:0:0::2]:7474"]"#, in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "members[2].addresses[0]", line: Fixtures.line(of: "2001:0db8", in: text), mentions: ["duplicate address [2001:db8::2]:7474", "member `n2`"])
    }

    @Test func duplicatePublicKey() {
        let text = Fixtures.replacing("public_key: \(Fixtures.keyC)", with: "public_key: \(Fixtures.keyA)", in: base)
        let problems = Fixtures.clusterProblems(text)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).lastIndex { $0.contains(Fixtures.keyA) }! + 1
        expectProblem(problems, field: "members[2].public_key", line: line, mentions: ["same public key as member `n1`", "netheal-cluster keygen"])
    }

    @Test(arguments: [
        ("ed25519:abcd", "got 4"),
        ("ed25519:" + String(repeating: "zz", count: 32), "only hex digits"),
        (String(repeating: "c3", count: 32), "must start with `ed25519:`"),
        ("ed25519:" + String(repeating: "00", count: 32), "all zeros"),
    ])
    func malformedPublicKey(key: String, expected: String) {
        let text = Fixtures.replacing("public_key: \(Fixtures.keyC)", with: "public_key: \(key)", in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "members[2].public_key", line: Fixtures.line(of: "public_key: \(key)", in: text), mentions: [expected, "keygen"])
    }

    @Test(arguments: [
        ("node3:7474", "host names are not resolved"),
        ("198.18.1.3", "missing `:port`"),
        ("198.18.1.3:0", "out of range"),
        ("198.18.1.3:70000", "out of range"),
        ("198.18.1.300:7474", "not an IPv4 address"),
        ("2001:db8::3:7474", "in brackets"),
        ("[2001:db8::3]7474", "expected `:port`"),
        ("0.0.0.0:7474", "not a unicast address"),
        ("239.1.1.1:7474", "not a unicast address"),
    ])
    func badHostPort(address: String, expected: String) {
        let text = Fixtures.replacing(#"addresses: ["198.18.1.3:7474"]"#, with: #"addresses: ["\#(address)"]"#, in: base)
        expectProblem(Fixtures.clusterProblems(text), field: "members[2].addresses[0]", line: Fixtures.line(of: address, in: text), mentions: [expected])
    }

    @Test func missingRequiredKeys() {
        let text = Fixtures.replacing("    public_key: \(Fixtures.keyB)\n", with: "", in: base)
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "members[1].public_key", line: Fixtures.line(of: "- name: n2", in: text), mentions: ["missing required key `public_key`"])
        let noID = Fixtures.clusterProblems(Fixtures.replacing("cluster_id: test-fleet\n", with: "", in: base))
        expectProblem(noID, field: "cluster_id", line: 1, mentions: ["missing required key `cluster_id`"])
    }

    @Test(arguments: [
        ("failure_rounds: 4", "failure_rounds: 0", "protocol.failure_rounds", "out of range"),
        ("failure_rounds: 4", "accuser_quorum_fraction: 1.5", "protocol.accuser_quorum_fraction", "greater than 0 and at most 1"),
        ("failure_rounds: 4", "max_concurrent_heal_fraction: 0", "protocol.max_concurrent_heal_fraction", "greater than 0 and at most 1"),
        ("failure_rounds: 4", "probe_timeout: 1s", "protocol.probe_timeout", "shorter than probe_interval"),
        ("failure_rounds: 4", "peer_silence_timeout: 800ms", "protocol.peer_silence_timeout", "at least twice gossip_interval"),
        ("failure_rounds: 4", "view_freshness: 3s", "protocol.view_freshness", "at least peer_silence_timeout"),
        ("failure_rounds: 4", "backoff_max: 10s", "protocol.backoff_max", "at least backoff_initial"),
        ("gossip_interval: 500ms", "gossip_interval: 2d", "protocol.gossip_interval", "a duration"),
        ("failure_rounds: 4", "heal_intent_dwell: 200ms", "protocol.heal_intent_dwell", "at least gossip_interval"),
        ("failure_rounds: 4", "max_concurrent_heals: 0", "protocol.max_concurrent_heals", "out of range"),
        ("failure_rounds: 4", "accuser_quorum_minimum: 3", "protocol.accuser_quorum_minimum", "2 peers"),
        ("isolation_policy: hold", "isolation_policy: hodl", "protocol.isolation_policy", "did you mean `hold`?"),
    ])
    func outOfRangeSetting(old: String, new: String, field: String, expected: String) {
        let text = Fixtures.replacing(old, with: new, in: base)
        let key = String(new.split(separator: ":")[0])
        expectProblem(Fixtures.clusterProblems(text), field: field, line: Fixtures.line(of: key + ":", in: text), mentions: [expected])
    }

    @Test func relationRuleIsReportedAtTheLaterFieldAndSkippedWhenAFieldIsInvalid() {
        // gossip_interval is itself invalid: the peer_silence_timeout rule must not add noise.
        let text = Fixtures.replacing("gossip_interval: 500ms", with: "gossip_interval: 10ms\n  peer_silence_timeout: 100ms", in: base)
        let problems = Fixtures.clusterProblems(text)
        #expect(problems.map(\.field) == ["protocol.gossip_interval", "protocol.peer_silence_timeout"])
        #expect(problems[1].message.contains("out of range"))
    }

    @Test func tooManyMembers() {
        var text = "cluster_id: big\nmembers:\n"
        let zeros = String(repeating: "0", count: 56)
        for i in 0..<65_536 {
            let hex = String(i + 1, radix: 16)
            let key = "ed25519:" + zeros + String(repeating: "0", count: 8 - hex.count) + hex
            text += "  - {name: m\(i), addresses: [\"198.\(18 + i / 62_500).\(i / 250 % 250).\(i % 250 + 1):7474\"], public_key: \(key)}\n"
        }
        let problems = Fixtures.clusterProblems(text)
        expectProblem(problems, field: "members", line: 3, mentions: ["65536 members exceed the limit of 65535", "16-bit"])
        #expect(problems.count == 1)
    }

    @Test func emptyFileAndWrongRoot() {
        expectProblem(Fixtures.clusterProblems(""), field: "", line: 1, mentions: ["empty"])
        expectProblem(Fixtures.clusterProblems("- a\n- b\n"), field: "", line: 1, mentions: ["expected a cluster file", "got a list"])
    }

    @Test func invalidUTF8IsReportedWithItsPosition() {
        var bytes = Array("cluster_id: a\nmembers: x\u{20}".utf8)
        bytes.append(0xff)
        do {
            _ = try ConfigLoader.parseCluster(bytes, path: "c.yaml")
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.problems.map(\.description) == ["c.yaml:2:12: the file is not valid UTF-8 — save it as UTF-8 text"])
        }
    }

    @Test func severalProblemsAreAllReportedInLineOrder() {
        var text = Fixtures.replacing("name: n3", with: "name: n1", in: base)
        text = Fixtures.replacing("public_key: \(Fixtures.keyB)", with: "public_key: ed25519:12", in: text)
        text = Fixtures.replacing(#"addresses: ["198.18.1.3:7474"]"#, with: #"addresses: ["198.18.1.1:7474"]"#, in: text)
        text = Fixtures.replacing("members:", with: "memebrs_note: x\nmembers:", in: text)
        text = Fixtures.replacing("failure_rounds: 4", with: "failure_rounds: -1", in: text)
        text = Fixtures.replacing("isolation_policy: hold", with: "isolation_policy: true", in: text)
        let problems = Fixtures.clusterProblems(text)
        #expect(problems.map(\.field) == [
            "memebrs_note", "members[1].public_key", "members[2].name", "members[2].addresses[0]",
            "protocol.failure_rounds", "protocol.isolation_policy",
        ])
        let lines = problems.compactMap(\.line)
        #expect(lines == lines.sorted() && lines.count == problems.count)
        #expect(ConfigProblems(problems).description.split(separator: "\n").count == 6)
    }
}
