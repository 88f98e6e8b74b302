import Foundation
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// Heals of a real veth in a network namespace. Each test builds its own node/router pair
/// (198.18.x.0/24), injects a fault whose repair depends on the heal, and removes everything.
@Suite("Heal in namespaces", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct HealNamespaceTests {
    init() { NamespaceLab.removeStale() }

    private func makeHealer(
        _ lab: NamespacePair, _ dir: StateTestDirectory, action: HealActionSpec
    ) throws -> InterfaceHealer {
        let store = try StateStore(directory: dir.path)
        return try InterfaceHealer(
            interface: lab.nodeInterface, action: action, store: store, runner: CommandRunner(prefix: lab.nodePrefix))
    }

    /// Asserts the node's interface is up with its address and default route, and reaches the router.
    private func expectHealthy(_ lab: NamespacePair, _ healer: InterfaceHealer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let snapshot = try await healer.snapshot()
        #expect(snapshot.linkUp, "link up", sourceLocation: sourceLocation)
        #expect(snapshot.addresses.contains { $0.local == lab.nodeAddress && $0.prefixLength == 24 }, "address back", sourceLocation: sourceLocation)
        #expect(snapshot.defaultRoutes.contains { $0.gateway == lab.routerAddress }, "default route back", sourceLocation: sourceLocation)
        #expect(lab.nodeReachesRouter(), "ping to the router", sourceLocation: sourceLocation)
    }

    private func expectBroken(_ lab: NamespacePair, _ healer: InterfaceHealer) async throws {
        let snapshot = try await healer.snapshot()
        #expect(snapshot.defaultRoutes.isEmpty, "the fault removed the default route")
        #expect(!lab.nodeReachesRouter(), "the fault cut connectivity")
    }

    @Test("ip-link heal after a lost address (flush) restores address and default route")
    func ipLinkAfterFlush() async throws {
        let lab = try NamespacePair(tag: "ilf", octet: 7)
        defer { lab.destroy() }
        let dir = StateTestDirectory("ilf")
        defer { dir.remove() }
        let healer = try makeHealer(lab, dir, action: HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5)))
        try await expectHealthy(lab, healer)
        try await healer.recordBaseline()

        try lab.exec(lab.node, ["ip", "addr", "flush", "dev", lab.nodeInterface])
        try await expectBroken(lab, healer)

        let report = try await healer.heal(reason: "test: lost address", incarnation: 1)
        #expect(report.outcome == .healed, "\(report.verification.summary)")
        #expect(report.steps.map(\.result.argv).prefix(2).map { Array($0.suffix(2)) } == [[lab.nodeInterface, "down"], [lab.nodeInterface, "up"]])
        #expect(report.steps.contains { $0.purpose == .restore && $0.result.argv.contains("addr") })
        try await expectHealthy(lab, healer)

        // The journal on disk holds the intent and its outcome.
        let journal = try StateStore(directory: dir.path).load(.healJournal)
        guard case .loaded(let loaded) = journal else {
            Issue.record("journal not loaded: \(journal)")
            return
        }
        #expect(loaded.entries.count == 1)
        #expect(loaded.unfinished == nil)
        #expect(loaded.entries.first?.outcome?.outcome == .healed)
    }

    @Test("ip-link heal after the link was taken down restores the default route it deleted")
    func ipLinkAfterLinkDown() async throws {
        let lab = try NamespacePair(tag: "ild", octet: 8)
        defer { lab.destroy() }
        let dir = StateTestDirectory("ild")
        defer { dir.remove() }
        let healer = try makeHealer(lab, dir, action: HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5)))
        try await healer.recordBaseline()
        try lab.exec(lab.node, ["ip", "link", "set", "dev", lab.nodeInterface, "down"])
        try await expectBroken(lab, healer)

        let report = try await healer.heal(reason: "test: link down", incarnation: 1)
        #expect(report.outcome == .healed, "\(report.verification.summary)")
        #expect(report.steps.contains { $0.purpose == .restore && $0.result.argv.contains("default") })
        try await expectHealthy(lab, healer)
    }

    @Test("ifupdown heal (ifdown; ifup --state-dir) after a lost address restores address and default route")
    func ifupdownAfterFlush() async throws {
        let lab = try NamespacePair(tag: "ifu", octet: 9, configureNode: false)
        defer { lab.destroy() }
        try lab.configureNodeWithIfupdown()
        let dir = StateTestDirectory("ifu")
        defer { dir.remove() }
        let action = HealActionSpec(
            kind: .ifupdown, extraArguments: ["--state-dir", lab.ifupdownStateDirectory], verifyTimeout: .seconds(5),
            fallbackRestore: false)
        let healer = try makeHealer(lab, dir, action: action)
        try await expectHealthy(lab, healer)
        try await healer.recordBaseline()

        try lab.exec(lab.node, ["ip", "addr", "flush", "dev", lab.nodeInterface])
        try await expectBroken(lab, healer)

        let report = try await healer.heal(reason: "test: lost address", incarnation: 1)
        // No fallback: ifupdown alone must have repaired it.
        #expect(report.outcome == .healed, "\(report.verification.summary) \(report.steps.map(\.result))")
        #expect(report.steps.map { $0.result.argv[4] } == ["ifdown", "ifup"])
        #expect(report.steps.allSatisfy { $0.result.argv.suffix(2) == ["--state-dir", lab.ifupdownStateDirectory] })
        try await expectHealthy(lab, healer)
    }

    @Test("an agent killed between link down and up: the restarted agent restores the interface (ip-link)")
    func crashBetweenDownAndUpIPLink() async throws {
        let lab = try NamespacePair(tag: "cil", octet: 10)
        defer { lab.destroy() }
        let dir = StateTestDirectory("cil")
        defer { dir.remove() }
        do {
            let healer = try makeHealer(lab, dir, action: HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5)))
            try await healer.recordBaseline()
            await healer.setCrashPoint(afterActionCommands: 1)
            await #expect(throws: HealError.self) { try await healer.heal(reason: "test: crash", incarnation: 1) }
        }
        // What a kill -9 leaves: the link down, no default route, an intent without outcome on disk.
        let down = NamespaceLab.run(lab.nodePrefix + ["ip", "-json", "link", "show", "dev", lab.nodeInterface]).stdout
        #expect(!down.contains("\"UP\""), "the crashed heal left the link down")
        #expect(!lab.nodeReachesRouter())
        guard case .loaded(let journal) = try StateStore(directory: dir.path).load(.healJournal) else {
            Issue.record("no journal on disk")
            return
        }
        #expect(journal.unfinished?.intent.id == "1-1")

        // "Restart": a new store and healer from the state directory. A heal before recovery is refused.
        let restarted = try makeHealer(lab, dir, action: HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5)))
        do {
            _ = try await restarted.heal(reason: "too early", incarnation: 2)
            Issue.record("a heal before recovery must be refused")
        } catch {
            guard case .unfinishedHealPending(id: "1-1") = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
        let report = try #require(try await restarted.recoverUnfinishedHeal(incarnation: 2))
        #expect(report.outcome == .recovered, "\(report.verification.summary)")
        #expect(report.id == "1-1")
        try await expectHealthy(lab, restarted)
        #expect(try await restarted.recoverUnfinishedHeal(incarnation: 2) == nil, "nothing left to recover")
        let next = try await restarted.heal(reason: "after recovery", incarnation: 2)
        #expect(next.id == "2-1" && next.outcome == .healed)
        guard case .loaded(let after) = try StateStore(directory: dir.path).load(.healJournal) else {
            Issue.record("no journal on disk")
            return
        }
        #expect(after.unfinished == nil)
        #expect(after.entries.first?.outcome?.outcome == .recovered)
    }

    @Test("an agent killed between ifdown and ifup: the restarted agent runs ifup and restores the interface")
    func crashBetweenIfdownAndIfup() async throws {
        let lab = try NamespacePair(tag: "cif", octet: 11, configureNode: false)
        defer { lab.destroy() }
        try lab.configureNodeWithIfupdown()
        let dir = StateTestDirectory("cif")
        defer { dir.remove() }
        let action = HealActionSpec(
            kind: .ifupdown, extraArguments: ["--state-dir", lab.ifupdownStateDirectory], verifyTimeout: .seconds(5))
        do {
            let healer = try makeHealer(lab, dir, action: action)
            try await healer.recordBaseline()
            await healer.setCrashPoint(afterActionCommands: 1)
            await #expect(throws: HealError.self) { try await healer.heal(reason: "test: crash", incarnation: 1) }
        }
        #expect(!lab.nodeReachesRouter(), "ifdown ran, ifup did not")
        let restarted = try makeHealer(lab, dir, action: action)
        let report = try #require(try await restarted.recoverUnfinishedHeal(incarnation: 2))
        #expect(report.outcome == .recovered, "\(report.verification.summary)")
        #expect(report.steps.first?.purpose == .recovery)
        #expect(report.steps.first?.result.argv[4] == "ifup")
        #expect(!report.steps.contains { $0.purpose == .restore }, "ifup alone brought it back")
        try await expectHealthy(lab, restarted)
    }
}
