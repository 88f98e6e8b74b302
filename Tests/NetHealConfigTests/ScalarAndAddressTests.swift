import NetHealConfig
import NetHealCore
import Testing

@Suite("durations, addresses, names")
struct ScalarAndAddressTests {
    @Test(arguments: [
        ("800ms", 800), ("4s", 4_000), ("1m", 60_000), ("1h", 3_600_000), ("1m30s", 90_000), ("1h0m5s250ms", 3_605_250), ("0s", 0),
    ])
    func durationsParseAndFormat(text: String, milliseconds: Int64) {
        let duration = DurationText.parse(text)
        #expect(duration == .milliseconds(milliseconds))
        if let duration { #expect(DurationText.parse(DurationText.format(duration)) == duration) }
    }

    @Test(arguments: ["", "4", "4 s", "1.5s", "-1s", "1s1m", "1s1s", "1d", "25h", "s", "4sec", "99999999999ms"])
    func malformedDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func formatIsCanonical() {
        #expect(DurationText.format(.milliseconds(90_500)) == "1m30s500ms")
        #expect(DurationText.format(.seconds(3600)) == "1h")
    }

    @Test func hostPortParsing() throws {
        let v4 = try HostPort.parse("198.18.0.1:7474").get()
        #expect(v4.host == "198.18.0.1" && v4.port == 7474 && v4.address.isIPv4)
        let v6 = try HostPort.parse("[2001:DB8:0::1]:443").get()
        #expect(v6.description == "[2001:db8::1]:443")
        #expect(try HostPort.parse("127.0.0.1:9465").get().address.isLoopback)
        #expect(try HostPort.parse("[::1]:9465").get().address.isLoopback)
        #expect(try !HostPort.parse("[::2]:9465").get().address.isLoopback)
        for bad in ["198.18.0.1", ":80", "1.2.3:80", "01.2.3.4.5:80", "[fe80::1%eth0]:80", "[::1]", "host:80", "1.2.3.4:-1", "1.2.3.4:08x"] {
            #expect(throws: HostPortError.self, "\(bad)") { try HostPort.parse(bad).get() }
        }
    }

    @Test func probeTargetsRoundTrip() throws {
        for text in ["gateway", "icmp 198.18.0.1", "icmp 2001:db8::1", "tcp 198.18.0.1:443", "tcp [2001:db8::1]:443"] {
            #expect(try NodeSettings.ProbeTarget.parse(text).get().description == text)
        }
    }

    @Test func interfaceNames() {
        for good in ["eth0", "enp3s0f1", "bond0.100", "veth-a_b", "abcdefghijklmno"] { #expect(InterfaceName.problem(good) == nil, "\(good)") }
        for bad in ["", "abcdefghijklmnop", "a/b", "a:b", "a b", "a\tb", ".", ".."] { #expect(InterfaceName.problem(bad) != nil, "\(bad)") }
    }

    @Test func problemRendering() {
        let p = ConfigProblem(file: "c.yaml", line: 3, column: 7, field: "members[0].name", message: "bad — fix it")
        #expect(p.description == "c.yaml:3:7: members[0].name: bad — fix it")
        let whole = ConfigProblem(file: "k.key", line: nil, column: nil, field: "", message: "missing")
        #expect(whole.description == "k.key: missing")
    }
}

@Suite("hostile YAML")
struct HostileYAMLTests {
    @Test func aliasesAreRefusedBeforeComposing() {
        // An alias used as a key would make the composer hash 9^9 nodes; it must be refused at once.
        var text = "a: &a [x,x,x,x,x,x,x,x,x]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        text += "? *i\n: 1\n"
        let start = ContinuousClock.now
        let problems = Fixtures.clusterProblems(text)
        #expect(ContinuousClock.now - start < .seconds(2))
        expectProblem(problems, field: "", line: 2, mentions: ["YAML aliases (`*a`) are not supported"])
    }

    @Test(arguments: [
        "cluster_id: {\"k\":&x [1]}\nmembers: [*x]\n",
        "cluster_id: !!str &x a\nmembers:\n  - *x\n",
        "cluster_id: &x a\n? *x\n: b\n",
    ])
    func aliasFormsAreFound(text: String) {
        #expect(Fixtures.clusterProblems(text).contains { $0.message.contains("YAML aliases") })
    }

    @Test(arguments: [
        "cluster_id: 'it''s &x' # *x\nmembers: x\n",
        "cluster_id: \"a \\\" &x *x\"\nmembers: x\n",
        "cluster_id: a &x b *x\nmembers: x\n",
        "cluster_id: a\n# &x\nmembers: [\"*x\"]\n",
    ])
    func textThatOnlyLooksLikeAliasesIsNotRefused(text: String) {
        #expect(!Fixtures.clusterProblems(text).contains { $0.message.contains("YAML aliases") })
    }

    @Test func deepNestingIsASyntaxErrorNotACrash() {
        let text = "cluster_id: " + String(repeating: "[", count: 100_000)
        #expect(Fixtures.clusterProblems(text).first?.message.contains("YAML syntax error") == true)
    }

    @Test func mutatedFilesNeverCrashAndAlwaysExplain() {
        // A deterministic mini-fuzzer: flip, insert and delete bytes of the valid files.
        var random = SplitMix64(seed: 0x5eed_c0f1)
        let sources = [Array(Fixtures.cluster.utf8), Array(Fixtures.node.utf8)]
        var accepted = 0
        for round in 0..<600 {
            var bytes = sources[round % 2]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                default: bytes.remove(at: at)
                }
            }
            do {
                if round % 2 == 0 {
                    _ = try ConfigLoader.parseCluster(bytes, path: "c.yaml")
                } else {
                    _ = try ConfigLoader.parseNode(bytes, path: "/n.yaml") { _ throws(ConfigProblems) in Array(Fixtures.cluster.utf8) }
                }
                accepted += 1
            } catch {
                #expect(!error.problems.isEmpty)
                #expect(error.problems.allSatisfy { !$0.message.isEmpty && ($0.line ?? 1) >= 1 })
            }
        }
        // Some mutations land in comments or values that stay valid; most must be refused.
        #expect(accepted < 300)
    }
}
