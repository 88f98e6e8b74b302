import Foundation
import Logging
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// What the parent tells the child agent (JSON in `NHH_TORTURE_RECOVERY_CHILD`).
private struct RecoveryChildPlan: Codable {
    var stateDirectory: String
    var interface: String
    var prefix: [String]
    var action: HealActionSpec
}

private let recoveryChildVariable = "NHH_TORTURE_RECOVERY_CHILD"

/// What left the heal for the start-up to complete.
enum CrashTortureRecoveryCause: String, CaseIterable, Sendable {
    case unfinishedIntent = "an intent without outcome"
    case corruptJournal = "a corrupt journal"
}

/// The agent is killed while its start-up is completing an unfinished heal — `ifup` hangs (a
/// `pre-up` hook that sleeps, as a DHCP client that gets no lease does) and the watchdog or an
/// operator kills the agent. The next start must still bring the interface back. Two ways in:
/// an intent left by a killed heal, and a corrupt journal (the start-up checks the interface).
@Suite("Crash torture: kill -9 during start-up recovery", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct CrashTortureRecoveryTests {
    init() { NamespaceLab.removeStale() }

    @Test("killed while completing an unfinished heal: the next start completes it", arguments: CrashTortureRecoveryCause.allCases)
    func killedDuringRecovery(_ cause: CrashTortureRecoveryCause) async throws {
        let tag = cause == .unfinishedIntent ? "cru" : "crc"
        let lab = try NamespacePair(tag: tag, octet: cause == .unfinishedIntent ? 44 : 45, configureNode: false)
        defer { lab.destroy() }
        try lab.configureNodeWithIfupdown()
        let dir = StateTestDirectory(tag)
        defer { dir.remove() }
        let action = HealActionSpec(
            kind: .ifupdown, extraArguments: ["--state-dir", lab.ifupdownStateDirectory], stepTimeout: .seconds(60),
            verifyTimeout: .seconds(5))
        let runner = CommandRunner(prefix: lab.nodePrefix)
        let healer = try InterfaceHealer(
            interface: lab.nodeInterface, action: action, store: try StateStore(directory: dir.path, logger: crashTortureQuietLogger),
            runner: runner, logger: crashTortureQuietLogger)
        try await healer.recordBaseline()
        switch cause {
        case .unfinishedIntent:
            // A heal that died between ifdown and ifup.
            await healer.setCrashPoint(afterActionCommands: 1)
            _ = try? await healer.heal(reason: "torture", incarnation: 1)
        case .corruptJournal:
            // The interface went down, and the journal is unreadable.
            try lab.exec(lab.node, ["ifdown", lab.nodeInterface, "--state-dir", lab.ifupdownStateDirectory])
            try Data("{\"entries\":[{\"intent\":".utf8).write(to: URL(fileURLWithPath: dir.path + "/heal-journal.json"))
        }
        #expect(!lab.nodeReachesRouter(), "the interface is down before the start")

        // ifup hangs in a pre-up hook.
        let hook = "/etc/netns/\(lab.node)/network/if-pre-up.d/zz-torture-hang"
        let marker = dir.path + "-hook.pid"
        defer {
            try? FileManager.default.removeItem(atPath: hook)
            try? FileManager.default.removeItem(atPath: marker)
        }
        try "#!/bin/sh\necho $$ > \(marker)\nsleep 60\n".write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)

        let plan = RecoveryChildPlan(stateDirectory: dir.path, interface: lab.nodeInterface, prefix: lab.nodePrefix, action: action)
        let child = try CrashTortureChild(
            filter: "CrashTortureRecoveryChild", variable: recoveryChildVariable,
            plan: String(decoding: try JSONEncoder().encode(plan), as: UTF8.self), stderrPath: dir.path + "-child.err")
        defer { child.killAll() }
        let deadline = ContinuousClock.now + .seconds(90)
        while !FileManager.default.fileExists(atPath: marker) && ContinuousClock.now < deadline && child.process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(FileManager.default.fileExists(atPath: marker), "the start-up never reached ifup: \(child.lines.suffix(5)) \(child.stderrTail())")

        // While ifup hangs, the unfinished heal is on disk.
        guard case .loaded(let during) = StateStore.peekJournal(dir.path) else {
            Issue.record("\(cause.rawValue): no readable journal on disk while the start-up recovers")
            return
        }
        #expect(during.unfinished != nil, "\(cause.rawValue): the recovery in progress is not recorded: a kill now would lose it")

        let killed = child.killAll()
        #expect(killed >= 3, "the agent, ifup and the hook were killed (got \(killed))")
        try FileManager.default.removeItem(atPath: hook)
        #expect(!lab.nodeReachesRouter(), "the killed recovery left the interface down")

        let startup = try await HealStartup.run(
            stateDirectory: dir.path, interface: lab.nodeInterface, action: action, runner: runner, logger: crashTortureQuietLogger)
        let report = try #require(startup.recovery, "\(cause.rawValue): the next start found nothing to complete; the interface stays down")
        #expect(report.outcome == .recovered, "\(report.summary)")
        #expect(report.id == during.unfinished?.intent.id)
        let snapshot = try await startup.healer.snapshot()
        #expect(snapshot.linkUp && snapshot.addresses.contains { $0.local == lab.nodeAddress })
        #expect(snapshot.defaultRoutes.contains { $0.gateway == lab.routerAddress })
        var reachable = false
        for _ in 0..<3 where !reachable { reachable = lab.nodeReachesRouter() }
        #expect(reachable)
        #expect(await startup.healer.recentHeals().allSatisfy { $0.outcome != nil })
    }
}

extension StateStore {
    /// Reads the journal without opening a store (no clean-up, no setting aside): what is on disk now.
    static func peekJournal(_ directory: String) -> StateLoad<HealJournal> {
        guard let data = FileManager.default.contents(atPath: directory + "/heal-journal.json") else { return .missing }
        do {
            return .loaded(try JSONDecoder().decode(HealJournal.self, from: data))
        } catch {
            return .corrupt(StateCorruption(path: directory + "/heal-journal.json", movedTo: nil, reason: "\(error)"))
        }
    }
}

/// The child agent of `CrashTortureRecoveryTests`: runs the start-up sequence and waits to be killed.
@Suite("CrashTortureRecoveryChild", .enabled(if: ProcessInfo.processInfo.environment[recoveryChildVariable] != nil, "child process of the recovery torture only"))
struct CrashTortureRecoveryChild {
    @Test("start up until killed")
    func startUntilKilled() async throws {
        let text = try #require(ProcessInfo.processInfo.environment[recoveryChildVariable])
        let plan = try JSONDecoder().decode(RecoveryChildPlan.self, from: Data(text.utf8))
        let logger = Logger(label: "netheal.heal") { _ in CrashTortureLineLog() }
        _ = try await HealStartup.run(
            stateDirectory: plan.stateDirectory, interface: plan.interface, action: plan.action,
            runner: CommandRunner(prefix: plan.prefix), logger: logger)
        crashTortureEmit("STARTED")
        try await Task.sleep(for: .seconds(120))
    }
}
