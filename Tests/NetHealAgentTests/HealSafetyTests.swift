import Foundation
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// "Never leave the interface down" in-process: actions that fail, hang or break things are
/// followed by the fallback restore; a heal without a recorded intent does not act.
@Suite("Heal safety in namespaces", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct HealSafetyTests {
    init() { NamespaceLab.removeStale() }

    private func healer(_ lab: NamespacePair, _ store: StateStore, _ action: HealActionSpec) throws -> InterfaceHealer {
        try InterfaceHealer(
            interface: lab.nodeInterface, action: action, store: store, runner: CommandRunner(prefix: lab.nodePrefix))
    }

    @Test("a command that takes the link down and hangs is killed at its timeout, and the interface is restored")
    func hangingCommandRestored() async throws {
        let lab = try NamespacePair(tag: "hang", octet: 13)
        defer { lab.destroy() }
        let dir = StateTestDirectory("hang")
        defer { dir.remove() }
        let action = HealActionSpec(
            kind: .command, command: ["sh", "-c", "ip link set dev \"$0\" down; sleep 30", "{interface}"],
            stepTimeout: .seconds(1), verifyTimeout: .seconds(1))
        let healer = try healer(lab, try StateStore(directory: dir.path), action)
        try await healer.recordBaseline()
        let report = try await healer.heal(reason: "test: hanging command", incarnation: 1)
        // Killed at its 1 s timeout, not waited out (30 s). The step's own clock counts: the time
        // around the `await` also includes waiting for a cooperative thread on a loaded machine.
        #expect(report.steps.first?.result.timedOut == true)
        #expect((report.steps.first?.result.duration ?? .seconds(99)) < .seconds(5))
        #expect(report.outcome == .healedAfterRestore, "\(report.verification.summary)")
        #expect(report.steps.contains { $0.purpose == .restore && $0.result.argv.contains("default") })
        #expect(lab.nodeReachesRouter())
    }

    @Test("a heal whose intent cannot be recorded does not act")
    func noIntentNoAction() async throws {
        let lab = try NamespacePair(tag: "noin", octet: 14)
        defer { lab.destroy() }
        let dir = StateTestDirectory("noin")
        let store = try StateStore(directory: dir.path)
        let marker = "/tmp/nhh-\(getpid())-noin-acted"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let healer = try healer(lab, store, HealActionSpec(kind: .command, command: ["touch", marker]))
        dir.remove()  // the state directory vanishes: the intent write must fail
        do {
            _ = try await healer.heal(reason: "test", incarnation: 1)
            Issue.record("the heal must refuse to act")
        } catch {
            guard case .intentNotRecorded = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the action must not have run")
        #expect(await healer.recentHeals().isEmpty)
    }

    @Test("a second heal while one runs is refused")
    func oneHealAtATime() async throws {
        let lab = try NamespacePair(tag: "busy", octet: 15)
        defer { lab.destroy() }
        let dir = StateTestDirectory("busy")
        defer { dir.remove() }
        let action = HealActionSpec(kind: .command, command: ["sleep", "1"], verifyTimeout: .seconds(1))
        let healer = try healer(lab, try StateStore(directory: dir.path), action)
        async let first = healer.heal(reason: "first", incarnation: 1)
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: HealError.self) { try await healer.heal(reason: "second", incarnation: 1) }
        #expect(try await first.outcome == .healed)
        #expect(await healer.recentHeals().map(\.intent.reason) == ["first"])
    }

    @Test("a corrupt journal at start: the interface is checked and brought back all the same")
    func corruptJournalRecovery() async throws {
        let lab = try NamespacePair(tag: "cjr", octet: 16)
        defer { lab.destroy() }
        let dir = StateTestDirectory("cjr")
        defer { dir.remove() }
        let action = HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5))
        do {
            let first = try healer(lab, try StateStore(directory: dir.path), action)
            try await first.recordBaseline()
        }
        try lab.exec(lab.node, ["ip", "link", "set", "dev", lab.nodeInterface, "down"])
        #expect(FileManager.default.createFile(atPath: dir.path + "/heal-journal.json", contents: Data("{\"entr".utf8)))
        let restarted = try healer(lab, try StateStore(directory: dir.path), action)
        let report = try #require(try await restarted.recoverUnfinishedHeal(incarnation: 2))
        #expect(report.outcome == .recovered, "\(report.verification.summary)")
        #expect(report.reason.contains("corrupt"))
        #expect(lab.nodeReachesRouter())
        #expect(dir.files().contains { $0.hasPrefix("heal-journal.json.corrupt-") })
        #expect(try await restarted.recoverUnfinishedHeal(incarnation: 2) == nil)
    }
}
