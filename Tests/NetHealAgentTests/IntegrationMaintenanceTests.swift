import Foundation
import NetHealConfig
import NetHealCore
import Testing

@testable import NetHealAgent

/// Maintenance windows in a running agent: a node whose evidence says heal does not heal while a
/// window is open, says so in `status` and `check`, and heals once the window closes. The wall clock
/// is injected (real time shifted by an offset the test moves), so the window is entered and left
/// deterministically.
@Suite("Integration: maintenance windows", .serialized)
struct IntegrationMaintenanceTests {
    /// Sunday 2026-11-22 03:00:00 UTC, inside `sun 02:00-04:00`.
    static let sundayThree: Int64 = 1_795_316_400_000

    /// A wall clock starting at `start` and advancing with real time; `jump(to:)` moves it.
    final class ShiftedWall: @unchecked Sendable {
        private let lock = NSLock()
        private var offset: Int64
        init(start: Int64) { offset = start - Self.real() }
        static func real() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
        func now() -> Int64 { lock.withLock { Self.real() + offset } }
        func jump(to wall: Int64) { lock.withLock { offset = wall - Self.real() } }
        var clock: AgentClock { AgentClock(now: AgentClock.system.now, wallMillis: { self.now() }) }
    }

    /// One member whose interface does not exist: its probes fail, so it wants to heal (see
    /// `IntegrationHealTests.healPath`).
    @Test("inside a window the node that would heal shows `disabled` with the window; after it, it heals")
    func windowDefersTheHeal() async throws {
        let fleet = try IntegrationFleet(size: 1, interface: "nhmissing0", maintenanceWindows: ["sun 02:00-04:00"])
        let wall = ShiftedWall(start: Self.sundayThree)
        fleet.start(0, clock: wall.clock)
        do {
            let deferred = try await fleet.waitUntil([0], "the heal is deferred by the window") {
                $0.decision.state == .disabled
            }
            let s = deferred[0]
            #expect(s.healingEnabled)  // the operator's switch is untouched
            #expect(s.maintenance != nil)
            #expect(s.maintenance?.untilMillis == Self.sundayThree + 3_600_000)
            #expect(s.counters.healsStarted == 0 && s.heals.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
            let text = StatusRendering.render(s, color: false)
            #expect(text.contains("maintenance window until 04:00 UTC"), "\(text)")
            #expect(!text.contains("HEALING DISABLED"))
            let verdict = CheckEvaluation.evaluate(s)
            #expect(verdict.code == .ok, "\(verdict.line)")
            #expect(verdict.line.contains("maintenance window until 04:00 UTC (would heal; deferred)"), "\(verdict.line)")
            let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
            #expect(json.contains("\"maintenance\":{\"untilMillis\":\(Self.sundayThree + 3_600_000)}"))

            // Stays deferred for a while (several probe rounds and ticks).
            try await Task.sleep(for: .seconds(2))
            let still = try await fleet.status(0)
            #expect(still.counters.healsStarted == 0 && still.decision.state == .disabled && still.heals.isEmpty)
            await fleet.stop(0)
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))

            // Window over: the restarted agent heals.
            wall.jump(to: Self.sundayThree + 3_600_000)
            fleet.start(0, clock: wall.clock)
            let healed = try await fleet.waitUntil([0], "the heal after the window") { $0.heals.count == 1 }
            #expect(healed[0].maintenance == nil)
            // The status lists the heal when it is ordered; the action (`touch healed-n0`) runs just
            // after, later still when the test run starves the agent of CPU.
            let marker = "\(fleet.directory)/healed-n0"
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: marker) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(FileManager.default.fileExists(atPath: marker))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("the operator's off switch and the window are separate: enabling inside a window does not heal")
    func offSwitchAndWindowAreSeparate() async throws {
        let fleet = try IntegrationFleet(size: 1, interface: "nhmissing0", maintenanceWindows: ["daily 00:00-24:00"])
        fleet.start(0, clock: ShiftedWall(start: Self.sundayThree).clock)
        do {
            try await fleet.waitUntil([0], "deferred") { $0.decision.state == .disabled }
            let off = try await fleet.control(0, .disable)
            #expect(off.status?.healingEnabled == false && off.status?.maintenance != nil)
            #expect(CheckEvaluation.evaluate(off.status!).code == .warning)
            let on = try await fleet.control(0, .enable)
            #expect(on.status?.healingEnabled == true && on.status?.decision.state == .disabled)
            #expect(on.status?.maintenance?.untilMillis == nil)
            #expect(StatusRendering.render(on.status!, color: false).contains("maintenance window with no end"))
            try await Task.sleep(for: .seconds(1))
            #expect(try await fleet.status(0).counters.healsStarted == 0)
            // What is persisted is the operator's switch (on), never the window's suspension.
            await fleet.stop(0)
            let stored = try String(contentsOfFile: "\(fleet.directory)/state-n0/pacing.json", encoding: .utf8)
            #expect(stored.filter { !$0.isWhitespace }.contains("\"healingEnabled\":true"), "\(stored)")
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("a reload that adds a window opens it at once; removing it closes it")
    func reloadAppliesWindows() async throws {
        let fleet = try IntegrationFleet(size: 1)
        let (requests, trigger) = AsyncStream.makeStream(of: Void.self)
        fleet.start(0, reloads: requests, clock: ShiftedWall(start: Self.sundayThree).clock)
        do {
            try await fleet.waitUntil([0], "healthy") { $0.decision.state == .healthy }
            let original = try String(contentsOfFile: fleet.nodeFile(0), encoding: .utf8)
            try (original + "maintenance_windows: [\"sun 02:00-04:00\"]\n")
                .write(toFile: fleet.nodeFile(0), atomically: true, encoding: .utf8)
            trigger.yield()
            let opened = try await fleet.waitUntil([0], "the window is open after the reload") { $0.maintenance != nil }
            #expect(opened[0].lastReload?.messages.contains { $0.contains("maintenance windows changed") } == true)
            #expect(opened[0].healingEnabled && opened[0].decision.state == .healthy)  // healthy stays healthy
            #expect(CheckEvaluation.evaluate(opened[0]).code == .ok)
            try original.write(toFile: fleet.nodeFile(0), atomically: true, encoding: .utf8)
            trigger.yield()
            try await fleet.waitUntil([0], "the window is closed after the second reload") {
                $0.maintenance == nil && $0.lastReload?.messages.contains { $0.contains("maintenance windows changed") } == true
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }
}
