import Foundation
import NetHealCore
import Testing

/// Rule 5: minimum interval, exponential backoff, budget window, settle and verification, escalation,
/// and the pacing state surviving a restart.
@Suite struct PacingTests {
    /// A one-member cluster whose probes never recover: it heals as often as pacing allows.
    func hopeless(_ settings: HealSettings = HealSettings(), for duration: Duration) -> Solo {
        var solo = Solo(size: 1, settings: settings)
        solo.probesOK = false
        solo.advance(duration)
        return solo
    }

    @Test func failedHealsBackOffExponentiallyAndTheBudgetCapsTheWindow() {
        let solo = hopeless(for: .seconds(4000))
        let times = solo.healTimes.map { Double($0.nanoseconds) / 1e9 }
        // K = 3 rounds, 1 s intent: first heal at 4 s. Each fails after settle (10 s), backoff 60, 120 s;
        // then the budget (3 per hour) holds the 4th until an hour after the 1st.
        #expect(times.count == 4)
        #expect(times[0] == 4)
        #expect(times[1] >= times[0] + 10 + 60 && times[1] <= times[0] + 10 + 60 + 2)
        #expect(times[2] >= times[1] + 10 + 120 && times[2] <= times[1] + 10 + 120 + 2)
        #expect(times[3] >= times[0] + 3600 && times[3] <= times[0] + 3600 + 2)
        #expect(solo.rules.contains(.pacingWait))
        let pacing = solo.core.pacing
        #expect(pacing.history.map(\.result).prefix(3) == [.notRecovered, .notRecovered, .notRecovered])
        #expect(pacing.consecutiveFailures >= 3)
    }

    @Test func backoffIsCappedAndMinimumIntervalApplies() {
        var settings = HealSettings()
        settings.backoffInitial = .seconds(10)
        settings.backoffMax = .seconds(25)
        settings.minHealInterval = .seconds(30)
        settings.maxHealsPerWindow = 100
        let solo = hopeless(settings, for: .seconds(400))
        let times = solo.healTimes.map { Double($0.nanoseconds) / 1e9 }
        #expect(times.count >= 5)
        for (a, b) in zip(times, times.dropFirst()) {
            // Settle 10 s + backoff (10, 20, then capped 25) but never closer than 30 s.
            #expect(b - a >= 30)
            #expect(b - a <= 10 + 25 + 2)
        }
    }

    @Test func aVerifiedSuccessResetsTheBackoff() {
        var solo = Solo(size: 1)
        solo.probesOK = false
        solo.advance(.seconds(5))
        #expect(solo.cycles.count == 1)
        solo.probesOK = true  // the heal helped
        solo.advance(.seconds(12))
        #expect(solo.core.pacing.history.last?.result == .succeeded)
        #expect(solo.core.pacing.consecutiveFailures == 0)
        #expect(solo.core.pacing.backoffUntil == nil)
        #expect(solo.core.state == .healthy)
    }

    @Test func aFailedActionCountsAsAFailedHealAtOnce() {
        var solo = Solo(size: 1)
        solo.autoComplete = .failed(detail: "exit status 1")
        solo.probesOK = false
        solo.advance(.seconds(5))
        #expect(solo.core.pacing.history.last?.result == .actionFailed)
        #expect(solo.core.pacing.history.last?.detail == "exit status 1")
        #expect(solo.core.state == .backoff)
        #expect(solo.core.rule == .backoffWait)
    }

    @Test func aMissingOutcomeTimesOutAtTheActionDeadline() {
        var settings = HealSettings()
        settings.healActionDeadline = .seconds(30)
        var solo = Solo(size: 1, settings: settings)
        solo.autoComplete = nil
        solo.probesOK = false
        solo.advance(.seconds(20))
        #expect(solo.core.state == .healing)
        #expect(solo.core.rule == .healInProgress)
        solo.advance(.seconds(20))
        #expect(solo.core.pacing.inProgress == nil)
        #expect(solo.core.pacing.history.last?.result == .actionFailed)
    }

    @Test func theEscalationLadderClimbsAfterFailures() {
        var settings = HealSettings()
        settings.escalationAfterFailures = 1
        settings.escalationSteps = 3
        settings.maxHealsPerWindow = 10
        let solo = hopeless(settings, for: .seconds(2000))
        #expect(solo.cycles.map(\.step).prefix(4) == [0, 1, 2, 2])
    }

    @Test func theLadderIsOffByDefault() {
        let solo = hopeless(for: .seconds(400))
        #expect(solo.cycles.count >= 2)
        #expect(solo.cycles.allSatisfy { $0.step == 0 })
    }

    @Test func backoffSurvivesARestart() throws {
        var solo = Solo(size: 1)
        solo.probesOK = false
        solo.advance(.seconds(20))  // heal at 4 s, judged failed at 14 s: backoff until 74 s
        let saved = try #require(solo.lastPersisted)
        #expect(saved.backoffUntil == .seconds(74))
        // Persist as JSON, restart in a new process whose monotonic clock starts again at 0, 20 s later.
        let json = try JSONEncoder().encode(saved)
        let loaded = try JSONDecoder().decode(PacingState.self, from: json)
        #expect(loaded == saved)
        let rebased = loaded.rebased(by: .zero - .seconds(20))
        #expect(rebased.backoffUntil == .seconds(54))
        var restarted = Solo(size: 1, pacing: rebased)
        restarted.probesOK = false
        restarted.advance(.seconds(50))
        #expect(restarted.cycles.isEmpty)
        #expect(restarted.core.state == .backoff)
        restarted.advance(.seconds(10))
        #expect(restarted.healTimes == [.seconds(55)])  // backoff end + intent dwell
        // A core started without the state would have healed within seconds.
        var amnesiac = Solo(size: 1)
        amnesiac.probesOK = false
        amnesiac.advance(.seconds(10))
        #expect(amnesiac.cycles.count == 1)
    }

    @Test func aRestartDuringTheActionStillCountsTheHeal() {
        var solo = Solo(size: 1)
        solo.autoComplete = nil
        solo.probesOK = false
        solo.advance(.seconds(5))
        #expect(solo.cycles.count == 1)
        let saved = solo.lastPersisted
        #expect(saved?.inProgress != nil)
        var restarted = Solo(size: 1, pacing: saved)
        restarted.now = solo.now
        restarted.probesOK = false
        restarted.advance(.seconds(50))
        // Judged after settle from the restart, failed, backoff: no new heal within the minimum interval.
        #expect(restarted.cycles.isEmpty)
        #expect(restarted.core.pacing.history.count == 1)
        #expect(restarted.core.pacing.history[0].result == .notRecovered)
        #expect(restarted.core.pacing.history[0].detail?.isEmpty == false)
    }

    @Test func theOffSwitchBlocksHeals() {
        var solo = Solo(size: 1)
        solo.feed(.setHealingEnabled(false))
        solo.probesOK = false
        solo.advance(.seconds(30))
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.state == .disabled)
        solo.feed(.setHealingEnabled(true))
        solo.advance(.seconds(2))
        #expect(solo.cycles.count == 1)
    }
}
