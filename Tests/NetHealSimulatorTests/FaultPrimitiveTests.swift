import NetHealCore
import NetHealWire
import Testing

@testable import NetHealSimulator

/// Each fault primitive does what docs/simulation.md says, observed on the engine's ground truth and traffic.
@Suite struct FaultPrimitiveTests {
    func sim(_ text: String) throws -> Simulation<NodeCore> {
        try Simulation<NodeCore>(scenario: try scenario("signer fast\n" + text))
    }

    @Test func wedgeStopsTrafficAndProbesAndAHealRepairsIt() throws {
        let sim = try sim("fleet 4\nduration 2m\nheal-duration 3s\nat 10s wedge n2\n")
        try sim.advance(to: s(9))
        let deliveredBefore = sim.result.datagramsDelivered
        #expect(sim.ifaceWorks(1))
        try sim.advance(to: s(10.5))
        #expect(!sim.ifaceTx(1) && !sim.ifaceRx(1))
        try sim.advance(to: s(12))
        #expect(sim.check.lastProbeAnswered[1] == false, "a wedged node's probes time out")
        #expect(sim.result.datagramsDelivered > deliveredBefore, "the others still talk")
        try sim.advance(to: s(60))
        let heal = try #require(sim.result.heals.first)
        #expect(heal.node == 1 && heal.justified)
        #expect(sim.ifaceWorks(1), "a heal repairs a repairable wedge")
        #expect(sim.wedge[1] == 0)
    }

    @Test func healTakesTheInterfaceDownForItsDuration() throws {
        let sim = try sim("fleet 3\nduration 2m\nheal-duration 5s\nat 10s wedge n1 hard\n")
        var t = s(10)
        while sim.result.heals.isEmpty && t < s(40) {
            t += 100_000_000
            try sim.advance(to: t)
        }
        let heal = try #require(sim.result.heals.first)
        try sim.advance(to: heal.at + s(1))
        #expect(sim.healDown[0], "the interface is down during the heal")
        try sim.advance(to: heal.at + s(5.2))
        #expect(!sim.healDown[0])
        #expect(sim.wedge[0] & 4 != 0 && !sim.ifaceWorks(0), "a hard wedge survives the heal")
    }

    @Test func oneWayWedges() throws {
        let sim = try sim("fleet 3\nduration 1m\nset isolationPolicy hold\nat 5s wedge n1 tx\nat 5s wedge n2 rx\n")
        try sim.advance(to: s(6))
        #expect(!sim.ifaceTx(0) && sim.ifaceRx(0))
        #expect(sim.ifaceTx(1) && !sim.ifaceRx(1))
    }

    @Test func partitionShapes() throws {
        let sim = try sim("""
            fleet 7
            duration 5m
            at 10s partition {n1,n2,n3} | {n4,n5,n6,n7} for 10s
            at 30s partition one-way n1 -> {n2,n3} for 10s
            at 50s partition isolate n4 for 10s
            at 70s partition bridge n1..n4 | n4..n7 via n4 for 10s
            at 90s partition ring for 10s
            at 110s partition random for 10s
            at 130s partition isolate n1
            at 135s heal-network
            """)
        try sim.advance(to: s(11))
        #expect(sim.blocked(0, 3) && sim.blocked(3, 0) && !sim.blocked(0, 2) && !sim.blocked(3, 6))
        try sim.advance(to: s(21))
        #expect(!sim.blocked(0, 3) && sim.cuts.isEmpty, "a partition `for D` ends")
        try sim.advance(to: s(31))
        #expect(sim.blocked(0, 1) && !sim.blocked(1, 0) && !sim.blocked(0, 3))
        try sim.advance(to: s(51))
        for j in [0, 1, 2, 4, 5, 6] { #expect(sim.blocked(3, j) && sim.blocked(j, 3)) }
        #expect(!sim.blocked(0, 6))
        try sim.advance(to: s(71))
        #expect(sim.blocked(0, 6) && sim.blocked(6, 0) && !sim.blocked(3, 0) && !sim.blocked(3, 6) && !sim.blocked(0, 2))
        try sim.advance(to: s(91))
        // 7 members: each reaches the 2 nearest on each side of the ring (a majority with itself).
        #expect(!sim.blocked(0, 1) && !sim.blocked(0, 2) && !sim.blocked(0, 5) && !sim.blocked(0, 6))
        #expect(sim.blocked(0, 3) && sim.blocked(0, 4))
        try sim.advance(to: s(111))
        var crossing = 0
        for a in 0..<7 { for b in 0..<7 where a != b && sim.blocked(a, b) { crossing += 1; #expect(sim.blocked(b, a)) } }
        #expect(crossing > 0, "a random partition splits the fleet in two")
        try sim.advance(to: s(131))
        #expect(sim.blocked(0, 1))
        try sim.advance(to: s(136))
        #expect(sim.cuts.isEmpty && !sim.blocked(0, 1), "heal-network ends every partition")
    }

    @Test func upstreamOutageOfADomainAndUplinkLoss() throws {
        let sim = try sim("""
            fleet 6
            domain rackA n1..n3
            domain rackB n4..n6
            duration 3m
            at 10s upstream-outage rackA for 20s
            at 60s uplink-loss rackB for 20s
            """)
        try sim.advance(to: s(11))
        #expect(!sim.upstreamOK(0) && !sim.upstreamOK(2) && sim.upstreamOK(3))
        #expect(!sim.blocked(0, 3), "an upstream outage leaves the LAN alone")
        try sim.advance(to: s(31))
        #expect(sim.upstreamOK(0))
        try sim.advance(to: s(61))
        #expect(!sim.upstreamOK(3) && sim.blocked(3, 0) && sim.blocked(0, 3) && !sim.blocked(3, 4))
        try sim.advance(to: s(81))
        #expect(sim.upstreamOK(3) && !sim.blocked(3, 0))
    }

    @Test func flappingTogglesEveryHalfPeriod() throws {
        let sim = try sim("""
            fleet 3
            duration 1m
            at 10s flap upstream all period 4s for 12s
            at 10s flap n2 period 2s for 4s
            at 30s flap link n1 | {n2,n3} period 2s for 3s
            """)
        try sim.advance(to: s(10.5))
        #expect(!sim.upstreamOK(0) && !sim.ifaceWorks(1))
        try sim.advance(to: s(11.5))
        #expect(sim.ifaceWorks(1))
        try sim.advance(to: s(12.5))
        #expect(sim.upstreamOK(0) && !sim.ifaceWorks(1))
        try sim.advance(to: s(14.5))
        #expect(!sim.upstreamOK(0) && sim.ifaceWorks(1), "the interface flap ended after 4 s")
        try sim.advance(to: s(22.5))
        #expect(sim.upstreamOK(0), "the upstream flap ended after 12 s")
        try sim.advance(to: s(30.5))
        #expect(sim.blocked(0, 1) && sim.blocked(2, 0) && !sim.blocked(1, 2))
        try sim.advance(to: s(31.5))
        #expect(!sim.blocked(0, 1))
        try sim.advance(to: s(32.5))
        #expect(sim.blocked(0, 1))
        try sim.advance(to: s(33.5))
        #expect(!sim.blocked(0, 1) && sim.cuts.isEmpty, "the link flap ended after 3 s")
    }

    @Test func crashRestartsWithNewIncarnation() throws {
        let sim = try sim("fleet 4\nduration 3m\nat 10s wedge n2\nat 30s crash n2 for 5s\n")
        try sim.advance(to: s(29))
        #expect(sim.result.heals.count == 1)
        let persisted = try #require(sim.persisted[1])
        #expect(persisted.history.count == 1)
        try sim.advance(to: s(31))
        #expect(sim.node(1) == nil && sim.incarnation[1] == 1)
        try sim.advance(to: s(37))
        let node = try #require(sim.node(1))
        #expect(sim.incarnation[1] == 2 && sim.sequence[1] >= 1)
        #expect(node.pacing.history.count == 1, "the restarted core got its persisted heal history")
        #expect(sim.watermarks[0][MemberIndex(1)]?.incarnation == 2, "peers accept the new incarnation")
    }

    @Test func crashWhenHealingHitsTheRunningHeal() throws {
        let sim = try sim("fleet 5\nduration 2m\nat 30s wedge n3\nat 31s crash n3 when-healing for 5s\n")
        var t = s(31)
        while sim.result.heals.isEmpty && t < s(60) {
            t += 100_000_000
            try sim.advance(to: t)
        }
        let heal = try #require(sim.result.heals.first)
        try sim.advance(to: heal.at + s(0.6))
        #expect(sim.node(2) == nil, "the agent died 500 ms into the heal")
        try sim.advance(to: s(100))
        let node = try #require(sim.node(2))
        #expect(sim.incarnation[2] == 2)
        #expect(sim.ifaceWorks(2), "the action finished in the OS and repaired the NIC")
        let record = try #require(node.pacing.history.last)
        #expect(record.result == .succeeded, "judged by the probes after the restart")
        #expect(record.detail?.contains("restarted") == true)
        #expect(sim.result.heals.count == 1)
    }

    @Test func restartKeepsThePacingBudget() throws {
        // A hard wedge: first heal at ~17 s; without the persisted state a restarted core would heal
        // again ~7 s after the restart; with it, not before the minimum interval (60 s) and backoff.
        let sim = try sim("fleet 4\nduration 3m\nat 10s wedge n2 hard\nat 30s crash n2 for 5s\n")
        try sim.advance(to: s(70))
        #expect(sim.result.heals.count == 1)
        #expect(sim.result.violations.isEmpty)
    }

    @Test func lossDuplicationAndLatency() throws {
        let lossy = try sim("fleet 3\nduration 20s\nat 0s link n1 -> n2 loss 100%\n")
        try lossy.advance(to: s(20))
        let n2 = try #require(lossy.node(1))
        let n3 = try #require(lossy.node(2))
        let at = Instant(nanoseconds: lossy.now + lossy.monoOffset[1])
        #expect(n2.viewContent(now: at).reach[0] == .unreachable, "100% loss: n2 never hears n1 directly")
        #expect(n3.viewContent(now: Instant(nanoseconds: lossy.now + lossy.monoOffset[2])).reach[0] == .reachable)
        let dup = try sim("fleet 3\nduration 20s\nnetwork latency 1ms..2ms dup 100%\n")
        let r = try dup.run()
        #expect((r.rejected.first { $0.reason == "replayed" }?.count ?? 0) >= r.datagramsDelivered - 10,
            "every duplicate is rejected as a replay")
        let slow = try sim("fleet 2\nduration 10s\nnetwork latency 300ms..300ms\n")
        var lat: [Int64] = []
        for _ in 0..<50 { lat.append(slow.latency(slow.scenario.network)) }
        #expect(lat.allSatisfy { $0 == 300_000_000 })
        let tail = try sim("fleet 2\nduration 10s\nnetwork latency 1ms..20ms reorder 50%\n")
        var samples: [Int64] = []
        for _ in 0..<2000 { samples.append(tail.latency(tail.scenario.network)) }
        #expect(samples.allSatisfy { $0 >= 1_000_000 })
        let mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1e6
        #expect(mean > 15 && mean < 70, "exponential tail plus reordering delay, mean \(mean) ms")
    }

    @Test func skewChangesOnlyTheWallTimeInViews() throws {
        let sim = try sim("fleet 3\nduration 30s\nat 0s skew n2 +1h\n")
        try sim.advance(to: s(5))
        let decoder = DatagramDecoder(roster: sim.roster, verifier: FastStandInVerifier())
        func wall(_ i: Int) throws -> UInt64 {
            var w = ViewWatermarks(memberCount: 3)
            let bytes = try #require(sim.capturedPool(i).last)
            return try decoder.decode(bytes, watermarks: &w).get().sender.view.originTimeMillis
        }
        let skew = Int64(try wall(1)) - Int64(try wall(0))
        #expect(abs(skew - 3_600_000) < 2_000)
    }

    @Test func replayStaleAndForgedDatagramsAreRejected() throws {
        let r = try SimulationRunner.run(try scenario("""
            signer fast
            fleet 4
            duration 40s
            at 20s replay n1 -> n2 count 4
            at 21s stale n1 -> n3 count 4
            at 22s forge n1 -> {n2,n3,n4}
            """))
        #expect(r.injectedDelivered == 11)
        #expect(r.injectedAccepted == 0)
        #expect((r.rejected.first { $0.reason == "bad_signature" }?.count ?? 0) == 3)
        #expect((r.rejected.first { $0.reason == "replayed" }?.count ?? 0) >= 8)
        #expect(r.passed)
    }
}
