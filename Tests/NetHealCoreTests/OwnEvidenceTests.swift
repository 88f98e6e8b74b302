import NetHealCore
import Testing

/// Rule 1: own probes, K failed rounds, hysteresis; rule "probes ok → never cycle".
@Suite struct OwnEvidenceTests {
    @Test func upstreamFailsOnlyAfterKRoundsAndASendErrorIsAFailure() {
        var solo = Solo(size: 3)
        solo.advance(.seconds(3))
        #expect(solo.core.state == .healthy)
        solo.probesOK = false  // Solo reports ENETUNREACH: a send error
        solo.advance(.seconds(1))
        #expect(solo.core.state == .suspect)
        #expect(solo.core.rule == .ownProbesSuspect)
        solo.advance(.seconds(1))
        #expect(solo.core.viewContent(now: solo.now).upstream == .up)
        solo.advance(.seconds(1))
        #expect(solo.core.viewContent(now: solo.now).upstream == .failing)
        #expect(solo.core.evidence(now: solo.now).probes.history.hasSuffix("+---"))
    }

    @Test func recoveryNeedsRecoveryRoundsAndAGoodRoundNeverCycles() {
        var settings = HealSettings()
        settings.recoveryRounds = 3
        settings.isolationPolicy = .hold  // a one-member cluster would otherwise heal at once
        var solo = Solo(size: 1, settings: settings)
        solo.probesOK = false
        solo.advance(.seconds(3))
        #expect(solo.core.viewContent(now: solo.now).upstream == .failing)
        let healsBefore = solo.cycles.count
        solo.probesOK = true
        solo.advance(.seconds(2))
        // Still failing by hysteresis, but the last rounds answered: the core must not cycle.
        #expect(solo.core.viewContent(now: solo.now).upstream == .failing)
        #expect(solo.core.rule == .ownProbesRecovering)
        solo.advance(.seconds(1))
        #expect(solo.core.viewContent(now: solo.now).upstream == .up)
        #expect(solo.cycles.count == healsBefore)
        #expect(healsBefore == 0)
    }

    @Test func ownProbesSucceedingNeverCycleWhateverPeersSay() {
        var solo = Solo(size: 5)
        solo.advance(.seconds(60)) { solo in
            for peer in 1...4 { solo.view(from: peer, reachOfMe: .unreachable) }
        }
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.state == .healthy)
        #expect(solo.core.rule == .ownProbesOK)
        #expect(solo.core.evidence(now: solo.now).accuserCount == 4)
    }
}
