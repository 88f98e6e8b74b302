import NetHealCore
import NetHealWire
import Testing

@testable import NetHealSimulator

/// A planted bug: the real core, except that it also cycles whenever its own probe round fails.
struct HealsOnAnyProbeFailure: SimPolicy {
    static var policyName: String { "planted-bug" }
    var core: NodeCore
    init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {
        core = NodeCore(roster: roster, me: me, settings: settings, pacing: pacing, seed: seed)
    }
    var pacingState: PacingState? { core.pacing }
    var announcedState: DecisionState { core.state }
    mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        var effects = core.handle(input, now: now)
        if case .probeRound(let r) = input, !r.anyAnswered {
            effects.append(.cycleInterface(HealOrder(rule: .isolationHeal, reason: "planted", step: 0, healsInWindow: 0)))
        }
        return effects
    }
}

/// A planted bug: never heals.
struct NeverHeals: SimPolicy {
    static var policyName: String { "never" }
    var core: NodeCore
    init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {
        var s = settings
        s.isolationPolicy = .hold
        core = NodeCore(roster: roster, me: me, settings: s, pacing: pacing, seed: seed)
    }
    var pacingState: PacingState? { core.pacing }
    var announcedState: DecisionState { core.state }
    mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        core.handle(input, now: now).filter { if case .cycleInterface = $0 { false } else { true } }
    }
}

@Suite struct CheckerTests {
    @Test func catchesAHealDuringAnUpstreamOutage() throws {
        let s = try scenario("signer fast\nfleet 5\nduration 2m\nat 30s upstream-outage all for 60s\n")
        let r = try Simulation<HealsOnAnyProbeFailure>(scenario: s).run()
        #expect(r.exitCode == 1)
        #expect(r.violations.contains { $0.kind == .safety && $0.message.contains("during an upstream outage") })
        #expect(r.violations.contains { $0.message.contains("minHealInterval") }, "pacing is checked too")
    }

    @Test func naiveBaselineStormsAndIsCaught() throws {
        let s = try scenario("signer fast\nfleet 5\nduration 3m\nat 30s upstream-outage all for 90s\n")
        let r = try SimulationRunner.run(s, policy: .naive)
        #expect(r.falseHeals >= 10, "every node cycles every ~30 s: \(r.falseHeals)")
        #expect(r.exitCode == 1)
        let ours = try SimulationRunner.run(s)
        #expect(ours.heals.isEmpty && ours.passed)
    }

    @Test func catchesAHealWhileProbesSucceed() throws {
        // The planted policy heals on one failed round; with 30% probe loss rounds fail while the
        // interface and upstream are fine.
        let s = try scenario("signer fast\nfleet 3\nduration 2m\nupstream-loss 60%\n")
        let r = try Simulation<HealsOnAnyProbeFailure>(scenario: s).run()
        #expect(r.violations.contains { $0.message.contains("interface and upstream have been fine") })
    }

    @Test func catchesAMissingHeal() throws {
        let s = try scenario("signer fast\nfleet 5\nduration 2m\nat 30s wedge n3\n")
        let r = try Simulation<NeverHeals>(scenario: s).run()
        #expect(r.exitCode == 2)
        let v = try #require(r.violations.first)
        #expect(v.kind == .liveness && v.node == 2 && v.message.contains("not healed within"))
    }

    @Test func catchesAReplayedViewAccepted() throws {
        let sim = try Simulation<NodeCore>(scenario: try scenario("signer fast\nfleet 3\nduration 10s\n"))
        try sim.advance(to: s(3))
        let bytes = try #require(sim.capturedPool(0).last)
        let sent = SentDatagram(bytes, decoder: sim.decoder)
        // Pretend a broken decoder let the same datagram through twice (every view accepted again).
        sim.onAccepted(receiver: 2, sent, AcceptedViews(bits: (1 << UInt64(sent.views.count)) - 1, skippedRelayed: 0), tag: Tag.normal)
        #expect(sim.result.violations.contains { $0.message.contains("replay") })
    }

    @Test func catchesAForgedViewAccepted() throws {
        let sim = try Simulation<NodeCore>(scenario: try scenario("signer fast\nfleet 3\nduration 10s\n"))
        try sim.advance(to: s(3))
        let bytes = try sim.forged(claiming: 0)
        // A decoder that trusted the forger's key would accept it.
        var members = sim.roster.members
        members[0].publicKey = sim.forger.publicKey
        let gullible = DatagramDecoder(
            roster: ClusterRoster(clusterID: sim.roster.clusterID, members: members), verifier: FastStandInVerifier())
        var w = ViewWatermarks(memberCount: 3)
        _ = try gullible.decode(bytes, watermarks: &w).get()
        let sent = SentDatagram(bytes, decoder: gullible)
        sim.onAccepted(receiver: 1, sent, AcceptedViews(bits: 1, skippedRelayed: 0), tag: Tag.forged)
        #expect(sim.result.violations.contains { $0.kind == .safety && $0.message.contains("forged") })
    }

    @Test func failedExpectationsFailTheRun() throws {
        let r = try SimulationRunner.run(try scenario("""
            signer fast
            fleet 4
            duration 1m
            at 10s wedge n2
            expect no heal
            expect n2 heals exactly 2
            expect rejected bad_signature at-least 1
            """, file: "planted.scenario"))
        #expect(r.violations.count == 3)
        #expect(r.violations.allSatisfy { $0.message.contains("planted.scenario:") })
        #expect(r.exitCode == 1)
    }
}
