import NetHealCore
import Testing

@testable import NetHealAgent

/// The gate is pure: time is passed in.
@Suite("Watchdog gate")
struct SystemdWatchdogGateTests {
    let t0 = Instant(nanoseconds: 5_000_000_000)

    @Test func noPingWithoutBothBeats() {
        var gate = WatchdogGate(timeout: .seconds(30), now: t0)
        #expect(gate.pingInterval == .seconds(15))
        #expect(gate.tick(now: t0 + .seconds(16)) == .withheld(missing: [.eventLoop, .decisionLoop]))
        gate.beat(.eventLoop)
        #expect(gate.tick(now: t0 + .seconds(17)) == .withheld(missing: [.decisionLoop]))
        gate.beat(.eventLoop)
        #expect(gate.tick(now: t0 + .seconds(18)) == .withheld(missing: [.decisionLoop]))
        gate.beat(.decisionLoop)
        #expect(gate.tick(now: t0 + .seconds(19)) == .ping)
        #expect(gate.lastPing == t0 + .seconds(19))
    }

    @Test func beatsAreConsumedByAPing() {
        var gate = WatchdogGate(timeout: .seconds(30), now: t0)
        gate.beat(.eventLoop)
        gate.beat(.decisionLoop)
        #expect(gate.tick(now: t0 + .seconds(15)) == .ping)
        // Beats before the previous ping do not count for the next one.
        #expect(gate.tick(now: t0 + .seconds(30)) == .withheld(missing: [.eventLoop, .decisionLoop]))
        gate.beat(.decisionLoop)
        #expect(gate.tick(now: t0 + .seconds(31)) == .withheld(missing: [.eventLoop]))
    }

    @Test func neverMoreOftenThanHalfTheTimeout() {
        var gate = WatchdogGate(timeout: .seconds(30), now: t0)
        gate.beat(.eventLoop)
        gate.beat(.decisionLoop)
        #expect(gate.tick(now: t0 + .seconds(1)) == .notDue)
        #expect(gate.tick(now: t0 + .milliseconds(14_999)) == .notDue)
        #expect(gate.tick(now: t0 + .seconds(15)) == .ping)
        gate.beat(.eventLoop)
        gate.beat(.decisionLoop)
        #expect(gate.tick(now: t0 + .seconds(20)) == .notDue)
        #expect(gate.tick(now: t0 + .seconds(30)) == .ping)
    }

    @Test func aStuckDecisionLoopStarvesTheWatchdogForever() {
        var gate = WatchdogGate(timeout: .seconds(30), now: t0)
        var pings = 0
        // The event loop keeps beating every second for ten minutes; the decision loop never does.
        for second in 1...600 {
            gate.beat(.eventLoop)
            if gate.tick(now: t0 + .seconds(second)) == .ping { pings += 1 }
        }
        #expect(pings == 0)
    }

    @Test func healthyLoopsKeepEveryGapBelowTheTimeout() {
        var gate = WatchdogGate(timeout: .seconds(30), now: t0)
        var last = t0
        var maxGap = Duration.zero
        // Ticks every 7.5 s (pingInterval / 2), beats every 2 s.
        for step in 1...400 {
            let now = t0 + .milliseconds(step * 500)
            if step % 4 == 0 {
                gate.beat(.eventLoop)
                gate.beat(.decisionLoop)
            }
            if step % 15 == 0, gate.tick(now: now) == .ping {
                maxGap = max(maxGap, now - last)
                last = now
            }
        }
        #expect(last > t0 + .seconds(180))
        #expect(maxGap < .seconds(30))
    }
}
