import NetHealCore
import Testing

@testable import NetHealSimulator

@Suite struct ParserTests {
    func error(_ text: String) -> ScenarioError? {
        do {
            _ = try Scenario.parse(text, file: "x.scenario")
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryConstruct() throws {
        let s = try scenario("""
            # comment
            scenario demo
            seed 9
            fleet 8
            domain rackA n1..n4
            domain rackB n5..n8
            duration 1m30s
            set failureRounds 4
            set isolationPolicy hold
            network latency 2ms..5ms loss 1% dup 2% reorder 3%
            upstream-loss 5%
            heal-duration 2s
            tick 500ms
            signer fast
            at 10s wedge n3 tx hard for 20s
            at 11s unwedge n3
            at 12s upstream-outage rackA for 1m
            at 13s uplink-loss rackB for 30s
            at 14s partition {n1, n2} | {n3,n4} | rackB for 5s
            at 15s partition one-way n1 -> all
            at 16s partition isolate n2
            at 17s partition bridge n1..n4 | n4..n8 via n4
            at 18s partition ring
            at 19s partition random for 10s
            at 20s heal-network
            at 21s link rackA -> rackB latency 1ms..9ms loss 50%
            at 22s flap upstream all period 4s for 20s
            at 23s flap n5 period 2s for 10s
            at 24s crash n6 when-healing for 3s
            at 25s skew n7 -1h
            at 26s replay n1 -> n2 count 3
            at 27s stale n1 -> {n2,n3}
            at 28s forge n8 -> all
            expect n3 heals exactly 1 within 20s of wedge
            expect all heals at-most 4
            expect no heal except {n3,n5}
            expect at-most 1 heal per node per 10m
            expect rejected replayed at-least 2
            """)
        #expect(s.name == "demo" && s.seed == 9 && s.fleetSize == 8)
        #expect(s.duration == .seconds(90))
        #expect(s.settings.failureRounds == 4 && s.settings.isolationPolicy == .hold)
        #expect(s.network.loss == 0.01 && s.network.latencyMean == .milliseconds(5))
        #expect(s.upstreamLoss == 0.05 && s.healDuration == .seconds(2) && s.tickInterval == .milliseconds(500))
        #expect(s.signer == .fast)
        #expect(s.faults.count == 19)
        #expect(s.expectations.count == 5)
        guard case .wedge(let set, let mode, let hard) = s.faults[0].fault else { Issue.record("not a wedge"); return }
        #expect(set.members == [2] && mode == .tx && hard && s.faults[0].duration == .seconds(20))
        guard case .partition(.groups(let groups)) = s.faults[4].fault else { Issue.record("not groups"); return }
        #expect(groups.map(\.members) == [[0, 1], [2, 3], [4, 5, 6, 7]])
        guard case .skew(_, let millis) = s.faults[15].fault else { Issue.record("not skew"); return }
        #expect(millis == -3_600_000)
        guard case .crash(_, let whenHealing) = s.faults[14].fault else { Issue.record("not crash"); return }
        #expect(whenHealing && s.faults[14].duration == .seconds(3))
    }

    @Test func errorsNameFileAndLine() {
        let cases: [(String, Int, String)] = [
            ("fleet 5\nduration 1m\nbogus 3\n", 3, "unknown keyword `bogus`"),
            ("fleet 5\nat 10s wedge n9\n", 2, "outside the fleet of 5"),
            ("fleet 5\nat 10x wedge n1\n", 2, "not a duration"),
            ("duration 1m\n", 0, "missing `fleet N`"),
            ("fleet 5\n\n# c\nset noSuchField 3\n", 4, "unknown setting `noSuchField`"),
            ("fleet 5\nexpect n1 heals maybe 2\n", 2, "expect MEMBERS heals"),
            ("fleet 5\nat 1s partition {n1} {n2}\n", 2, "expected `|`"),
            ("at 1s wedge n1\nfleet 5\n", 1, "`fleet N` must come before"),
            ("fleet 5\nat 1s flap n1 period 2s\n", 2, "needs `for D`"),
            ("fleet 5\nnetwork loss 120%\n", 2, "above 100%"),
            ("fleet 5\nexpect rejected nonsense at-least 1\n", 2, "unknown rejection reason"),
            ("fleet 5\ndomain n2 n1..n3\n", 2, "must start with a letter and not look like a member"),
            ("fleet 3\nat 1s wedge n3..n1\n", 2, "runs backwards"),
        ]
        for (text, line, fragment) in cases {
            guard let e = error(text) else {
                Issue.record("no error for \(text.debugDescription)")
                continue
            }
            #expect(e.line == line, "\(e)")
            #expect(e.file == "x.scenario")
            #expect(e.description.contains(fragment), "\(e)")
            #expect(e.description.hasPrefix(line > 0 ? "x.scenario:\(line): " : "x.scenario: "), "\(e)")
        }
    }

    @Test func durationsRoundTrip() {
        for text in ["250ms", "30s", "10m", "1h", "90s", "1m30s", "0"] {
            let d = SimDuration.parse(text)
            #expect(d != nil, "\(text)")
            if let d { #expect(SimDuration.parse(SimDuration.format(d)) == d) }
        }
        #expect(SimDuration.parse("1m30s") == .seconds(90))
        for bad in ["", "s", "10", "1.5s", "-3s", "5 s", "3d"] { #expect(SimDuration.parse(bad) == nil, "\(bad)") }
    }
}
