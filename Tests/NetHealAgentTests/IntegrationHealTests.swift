import Foundation
import NetHealCore
import Testing

@testable import NetHealAgent

/// The heal path end to end in one agent: probes that fail, the decision, the journaled action, the
/// outcome fed back to the core, and pacing that survives a restart.
@Suite("Integration: heal path through the agent", .serialized)
struct IntegrationHealTests {
    /// A one-member cluster whose managed interface does not exist: every probe fails with ENODEV
    /// (bound to the missing device), so the node is isolated with failing probes and heals. The
    /// `command` action only touches a file; verification then fails (no such interface).
    @Test("failing probes lead to a journaled heal whose outcome reaches the core; pacing survives a restart")
    func healPath() async throws {
        let fleet = try IntegrationFleet(size: 1, interface: "nhmissing0")
        fleet.start(0)
        do {
            let healed = try await fleet.waitUntil(
                [0], "a heal was made and its outcome recorded"
            ) { s in
                s.heals.count == 1 && s.heals[0].outcome != nil && !s.decision.pacing.healInProgress
            }
            let s = healed[0]
            #expect(FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
            #expect(s.probes.count == 1 && !s.probes[0].ok && s.probes[0].outcome.contains("ENODEV"))
            #expect(s.heals[0].outcome == "failed")
            #expect(s.heals[0].action == "command")
            #expect(!s.heals[0].reason.isEmpty)
            #expect(s.counters.healsStarted == 1)
            #expect(s.decision.pacing.healsInWindow == 1)
            #expect(s.decision.pacing.consecutiveFailures == 1)
            #expect([DecisionState.backoff, .hold].contains(s.decision.state))
            #expect(CheckEvaluation.evaluate(s).code != .ok)

            // Restart: the heal budget and backoff come back from pacing.json; no second heal.
            await fleet.stop(0)
            fleet.start(0)
            let restarted = try await fleet.waitUntil([0], "the restarted agent is back") {
                $0.incarnation > s.incarnation
            }
            #expect(restarted[0].decision.pacing.healsInWindow == 1)
            #expect(restarted[0].decision.pacing.consecutiveFailures == 1)
            try await Task.sleep(for: .seconds(2))
            let later = try await fleet.status(0)
            #expect(later.counters.healsStarted == 0)
            #expect(later.heals.count == 1)
            #expect([DecisionState.backoff, .hold].contains(later.decision.state))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("dry run: the decision is made and counted as would-heal; no action runs")
    func dryRun() async throws {
        let fleet = try IntegrationFleet(size: 1, interface: "nhmissing0", mode: "dry-run")
        fleet.start(0)
        do {
            let statuses = try await fleet.waitUntil([0], "a would-heal was counted") {
                $0.counters.wouldHeals >= 1
            }
            #expect(statuses[0].mode == "dry-run")
            #expect(statuses[0].counters.healsStarted == 0)
            #expect(statuses[0].heals.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("the off switch: disabled through the control socket, persisted across a restart, enabled again")
    func offSwitch() async throws {
        let fleet = try IntegrationFleet(size: 1)
        fleet.start(0)
        do {
            try await fleet.waitUntil([0], "healthy") { $0.decision.state == .healthy }
            let disabled = try await fleet.control(0, .disable)
            #expect(disabled.ok && disabled.status?.healingEnabled == false)
            // Healthy stays healthy; `disabled` is the state only when the evidence says heal.
            #expect(disabled.status?.decision.state == .healthy)
            await fleet.stop(0)
            fleet.start(0)
            let back = try await fleet.waitUntil([0], "restarted, still disabled") {
                !$0.healingEnabled && $0.probes.count == 1
            }
            let verdict = CheckEvaluation.evaluate(back[0])
            #expect(verdict.code == .warning && verdict.line.contains("healing disabled (off switch)"))
            let enabled = try await fleet.control(0, .enable)
            #expect(enabled.status?.healingEnabled == true)
            try await fleet.waitUntil([0], "healthy again") { $0.healingEnabled && $0.decision.state == .healthy }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }
}
