import NetHealConfig
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
            #expect(try ProbeTarget.parse(text).get().description == text)
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
