import Foundation
import Logging
import NetHealCore
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// What the parent tells the child agent (JSON in `NHH_TORTURE_HEAL_CHILD`).
private struct HealChildPlan: Codable {
    var stateDirectory: String
    var interface: String
    var prefix: [String]
    var action: HealActionSpec
}

private let healChildVariable = "NHH_TORTURE_HEAL_CHILD"

/// Where a kill landed, judged from what it left behind (journal on disk, interface state) and
/// from how far the child's log got (a log line is written after the step it reports).
enum CrashTortureKillPoint: String, CaseIterable, Sendable {
    /// No intent on disk: the heal had not acted.
    case beforeIntent = "before intent"
    /// Intent on disk, no action command finished, the interface untouched.
    case afterIntentBeforeDown = "after intent, before down"
    /// The down command took effect (or finished), the up command had not completed.
    case betweenDownAndUp = "between down and up"
    /// The up command completed; restore/verify were running, no outcome yet.
    case duringRestore = "during restore/verify"
    /// The outcome was on disk.
    case afterOutcome = "after outcome"

    /// Classifies a kill (pure).
    static func classify(intentOnDisk: Bool, outcomeOnDisk: Bool, actionStepsLogged: Int, interfaceIntact: Bool) -> Self {
        if !intentOnDisk { return .beforeIntent }
        if outcomeOnDisk { return .afterOutcome }
        if actionStepsLogged >= 2 || (actionStepsLogged == 1 && interfaceIntact) { return .duringRestore }
        if actionStepsLogged == 0 && interfaceIntact { return .afterIntentBeforeDown }
        return .betweenDownAndUp
    }
}

/// When the parent kills: at an event the child logs, plus a random delay.
private enum KillAnchor: Int, CaseIterable {
    case ready, intentWritten, firstActionStep, secondActionStep, outcomeWritten, anywhere

    /// The largest random delay after the anchor, in microseconds (tuned so that each anchor
    /// mostly lands in its kill point on a loaded 2-core machine; `anywhere` uses the heal's
    /// measured duration instead).
    func maxDelayMicros(_ kind: HealActionKind) -> Int {
        switch self {
        case .ready: return 20_000
        // `ip link set down` takes effect within a few ms of the intent; `ifdown` runs its hooks first.
        case .intentWritten: return kind == .ipLink ? 500 : 6_000
        case .firstActionStep: return 4_000
        case .secondActionStep: return 40_000
        case .outcomeWritten: return 100_000
        case .anywhere: return 0
        }
    }

    /// The heal kind and anchor that, killed without delay, land in `point` most often (used to
    /// top up a point the random delays missed): `ifdown` runs its hooks before the link goes down,
    /// so a kill right at the intent usually lands before the down.
    static func aim(at point: CrashTortureKillPoint) -> (kind: HealActionKind, anchor: KillAnchor)? {
        switch point {
        case .beforeIntent: return (.ipLink, .ready)
        case .afterIntentBeforeDown: return (.ifupdown, .intentWritten)
        case .betweenDownAndUp: return (.ipLink, .firstActionStep)
        case .duringRestore: return (.ifupdown, .secondActionStep)
        case .afterOutcome: return (.ipLink, .outcomeWritten)
        }
    }
}

/// kill -9 at random points of real heals (ip-link and ifupdown) of a veth in a namespace pair;
/// after every kill a fresh start-up on the same state directory must leave the interface up with
/// its address and default route, the router reachable, and the journal consistent.
@Suite("Crash torture: kill -9 during heals", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct CrashTortureHealTests {
    /// Figures of one iteration.
    private struct Result {
        var point: CrashTortureKillPoint
        var leftBroken: Bool
        var recovered: Bool
    }

    @Test("kill -9 at random points of ip-link and ifupdown heals; start-up always restores the interface")
    func killDuringHeals() async throws {
        NamespaceLab.removeStale()
        let config = CrashTortureConfig.fromEnvironment()
        let iterations = config.iterations(config.healIterations)
        print("crash torture (heals): seed \(config.seedText), \(iterations.count) iteration(s); replay with NETHEAL_TORTURE_SEED=\(config.seedText) [NETHEAL_TORTURE_ONLY=<iteration>]")
        var hits: [CrashTortureKillPoint: Int] = [:]
        var hitsByKind: [String: Int] = [:]
        var leftBroken = 0
        var recovered = 0
        var failures = 0
        var estimatedHealMicros: [HealActionKind: Int] = [.ipLink: 400_000, .ifupdown: 900_000]
        let counter = CrashTortureIssueCounter()
        let started = ContinuousClock.now
        /// Runs one iteration and tallies what it hit.
        func tally(_ iteration: Int, kind: HealActionKind, anchor: KillAnchor, replay: String, noDelay: Bool = false) async {
            var rng = config.generator(iteration: iteration)
            let issuesBefore = counter.count
            do {
                let result = try await runIteration(
                    iteration, kind: kind, anchor: anchor, rng: &rng, estimate: &estimatedHealMicros[kind]!, replay: replay,
                    counter: counter, noDelay: noDelay)
                hits[result.point, default: 0] += 1
                hitsByKind["\(kind.rawValue) \(result.point.rawValue)", default: 0] += 1
                if result.leftBroken { leftBroken += 1 }
                if result.recovered { recovered += 1 }
            } catch {
                counter.record("iteration failed: \(error) — \(replay)")
            }
            if counter.count > issuesBefore { failures += 1 }
        }
        for iteration in iterations {
            let kind: HealActionKind = iteration % 2 == 0 ? .ipLink : .ifupdown
            let anchor = KillAnchor(rawValue: (iteration / 2) % KillAnchor.allCases.count)!
            let replay = "seed \(config.seedText) iteration \(iteration) (\(kind.rawValue), anchor \(anchor)); replay: NETHEAL_TORTURE_SEED=\(config.seedText) NETHEAL_TORTURE_ONLY=\(iteration)"
            await tally(iteration, kind: kind, anchor: anchor, replay: replay)
        }
        // Coverage top-up: the kill windows are milliseconds wide, so on a loaded machine a random
        // delay can miss one; aim extra iterations straight at any point not yet hit.
        if config.only == nil && iterations.count >= 20 {
            var next = iterations.count
            for point in CrashTortureKillPoint.allCases where hits[point, default: 0] == 0 {
                guard let aim = KillAnchor.aim(at: point) else { continue }
                for _ in 0..<8 where hits[point, default: 0] == 0 {
                    let iteration = next
                    next += 1
                    let replay = "seed \(config.seedText) top-up iteration \(iteration) aimed at '\(point.rawValue)' (\(aim.kind.rawValue), anchor \(aim.anchor), no delay)"
                    await tally(iteration, kind: aim.kind, anchor: aim.anchor, replay: replay, noDelay: true)
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        print("crash torture (heals): \(iterations.count) iterations in \(elapsed), failures \(failures), kills that left the interface broken \(leftBroken), recoveries \(recovered)")
        for point in CrashTortureKillPoint.allCases {
            let detail = ["ip-link", "ifupdown"].map { "\($0) \(hitsByKind["\($0) \(point.rawValue)"] ?? 0)" }.joined(separator: ", ")
            print("  kill point \(point.rawValue): \(hits[point] ?? 0) (\(detail))")
        }
        #expect(failures == 0, "seed \(config.seedText)")
        if config.only == nil && iterations.count >= 20 {
            for point in CrashTortureKillPoint.allCases {
                #expect(hits[point, default: 0] >= 1, "kill point '\(point.rawValue)' never hit in \(iterations.count) iterations; seed \(config.seedText)")
            }
        }
    }

    private func runIteration(
        _ iteration: Int, kind: HealActionKind, anchor: KillAnchor, rng: inout SplitMix64, estimate: inout Int,
        replay: String, counter: CrashTortureIssueCounter, noDelay: Bool = false
    ) async throws -> Result {
        let tag = "t" + String(iteration % 46656, radix: 36)
        let lab = try NamespacePair(tag: tag, octet: 41, configureNode: kind == .ipLink)
        defer { lab.destroy() }
        if kind == .ifupdown { try lab.configureNodeWithIfupdown() }
        let dir = StateTestDirectory("ct\(tag)")
        defer { dir.remove() }
        let action = HealActionSpec(
            kind: kind, extraArguments: kind == .ifupdown ? ["--state-dir", lab.ifupdownStateDirectory] : [],
            stepTimeout: .seconds(20), verifyTimeout: .seconds(5))
        let runner = CommandRunner(prefix: lab.nodePrefix)

        // The known-good baseline, as a healthy agent run records it.
        let observer = try InterfaceHealer(
            interface: lab.nodeInterface, action: action, store: try StateStore(directory: dir.path, logger: crashTortureQuietLogger),
            runner: runner, logger: crashTortureQuietLogger)
        try await observer.recordBaseline()

        let plan = HealChildPlan(stateDirectory: dir.path, interface: lab.nodeInterface, prefix: lab.nodePrefix, action: action)
        let child = try CrashTortureChild(
            filter: "CrashTortureHealChild", variable: healChildVariable,
            plan: String(decoding: try JSONEncoder().encode(plan), as: UTF8.self), stderrPath: dir.path + "-child.err")
        defer { child.killAll() }

        // READY <incarnation>: the child's store is open, its heal starts now.
        guard let ready = await child.waitForLine(timeout: .seconds(90), { $0.hasPrefix("READY ") }),
            let childIncarnation = UInt64(ready.line.dropFirst(6))
        else {
            throw CrashTortureFailure("the child agent never got ready: \(child.stderrTail())")
        }
        let readyAt = ContinuousClock.now
        let intentID = "\(childIncarnation)-1"
        func isActionStep(_ line: String) -> Bool { line.hasPrefix("LOG heal step ") && line.contains("purpose=action") }
        var delay = rng.upTo(anchor.maxDelayMicros(kind))
        var anchorLine: Int?
        switch anchor {
        case .ready: anchorLine = ready.index
        case .intentWritten: anchorLine = await child.waitForLine(from: ready.index, timeout: .seconds(30)) { $0.hasPrefix("LOG heal started") }?.index
        case .firstActionStep: anchorLine = await child.waitForLine(from: ready.index, timeout: .seconds(30), isActionStep)?.index
        case .secondActionStep:
            if let first = await child.waitForLine(from: ready.index, timeout: .seconds(30), isActionStep) {
                anchorLine = await child.waitForLine(from: first.index + 1, timeout: .seconds(30), isActionStep)?.index
            }
        case .outcomeWritten:
            anchorLine = await child.waitForLine(from: ready.index, timeout: .seconds(30)) { $0.hasPrefix("LOG heal finished") }?.index
            // A complete heal: refine the duration the `anywhere` anchor spreads its kills over.
            if anchorLine != nil { estimate = (estimate + crashTortureMicros(ContinuousClock.now - readyAt)) / 2 }
        case .anywhere:
            anchorLine = ready.index
            delay = rng.upTo(estimate * 12 / 10)
        }
        guard anchorLine != nil else {
            throw CrashTortureFailure("the child never reached \(anchor): lines \(child.lines.suffix(8)); \(child.stderrTail())")
        }
        if noDelay { delay = 0 }
        crashTortureSleep(microseconds: delay)
        child.killAll()
        let linesAtKill = child.lines

        // What the kill left behind, before anything repairs it.
        let atKill = try await observer.snapshot()
        let intact = atKill.linkUp && atKill.addresses.contains { $0.local == lab.nodeAddress }
            && atKill.defaultRoutes.contains { $0.gateway == lab.routerAddress }
        let journalPath = dir.path + "/" + StateFile<HealJournal>.healJournal.name
        var journalAtKill: HealJournal?
        if let data = FileManager.default.contents(atPath: journalPath) {
            do {
                journalAtKill = try JSONDecoder().decode(HealJournal.self, from: data)
            } catch {
                counter.record("the kill left an undecodable journal (\(data.count) bytes): \(error) — \(replay)")
            }
        }
        let entry = journalAtKill?.entries.first { $0.intent.id == intentID }
        let point = CrashTortureKillPoint.classify(
            intentOnDisk: entry != nil, outcomeOnDisk: entry?.outcome != nil,
            actionStepsLogged: linesAtKill.filter(isActionStep).count, interfaceIntact: intact)
        if point == .beforeIntent || point == .afterIntentBeforeDown {
            counter.expect(intact, "nothing had acted yet, but the interface is broken: \(atKill) — \(replay)")
        }

        // The restarted agent's start sequence.
        let startup = try await HealStartup.run(
            stateDirectory: dir.path, interface: lab.nodeInterface, action: action, runner: runner,
            logger: crashTortureQuietLogger)
        counter.expect(startup.incarnation > childIncarnation, "incarnation \(startup.incarnation) after \(childIncarnation) — \(replay)")
        switch point {
        case .beforeIntent, .afterOutcome:
            counter.expect(startup.recovery == nil, "\(point.rawValue): nothing to recover, got \(String(describing: startup.recovery?.summary)) — \(replay)")
        default:
            counter.expect(startup.recovery?.id == intentID, "\(point.rawValue): recovery of \(intentID) expected, got \(String(describing: startup.recovery?.id)) — \(replay)")
            counter.expect(startup.recovery?.outcome == .recovered, "\(point.rawValue): \(String(describing: startup.recovery?.verification.summary)) — \(replay)")
        }

        // The interface is back and works.
        let after = try await startup.healer.snapshot()
        counter.expect(after.linkUp, "\(point.rawValue): link not up after start-up: \(after) — \(replay)")
        counter.expect(after.addresses.contains { $0.local == lab.nodeAddress && $0.prefixLength == 24 }, "\(point.rawValue): address missing: \(after) — \(replay)")
        counter.expect(after.defaultRoutes.contains { $0.gateway == lab.routerAddress }, "\(point.rawValue): default route missing: \(after) — \(replay)")
        var reachable = false
        for _ in 0..<3 where !reachable { reachable = lab.nodeReachesRouter() }
        counter.expect(reachable, "\(point.rawValue): the router does not answer after start-up — \(replay)")

        // The journal is readable and consistent; no temporary or corrupt files.
        let store = try StateStore(directory: dir.path, logger: crashTortureQuietLogger)
        switch store.load(.healJournal) {
        case .missing:
            counter.expect(point == .beforeIntent, "\(point.rawValue): the journal is missing — \(replay)")
        case .corrupt(let corruption):
            counter.record("the journal is corrupt after start-up: \(corruption) — \(replay)")
        case .loaded(let journal):
            counter.expect(point != .beforeIntent, "before intent, yet a journal exists: \(journal.entries.map(\.intent.id)) — \(replay)")
            counter.expect(journal.unfinished == nil, "an unfinished heal is left: \(String(describing: journal.unfinished?.intent.id)) — \(replay)")
            counter.expect(journal.entries.map(\.intent.id) == [intentID], "entries \(journal.entries.map(\.intent.id)) — \(replay)")
            if let only = journal.entries.first {
                counter.expect(only.intent.incarnation == childIncarnation && only.intent.incarnation < startup.incarnation, "intent incarnation \(only.intent.incarnation) — \(replay)")
                counter.expect(only.intent.interface == lab.nodeInterface, "intent interface \(only.intent.interface) — \(replay)")
                let expected: NetHealAgent.HealOutcome = point == .afterOutcome ? .healed : .recovered
                counter.expect(only.outcome?.outcome == expected, "\(point.rawValue): outcome \(String(describing: only.outcome?.outcome)), expected \(expected) — \(replay)")
            }
        }
        let leftovers = dir.files().filter { $0.contains(".tmp-") || $0.contains(".corrupt-") }
        counter.expect(leftovers.isEmpty, "files left in the state directory: \(leftovers) — \(replay)")

        // And a second restart finds nothing to do.
        let again = try await HealStartup.run(
            stateDirectory: dir.path, interface: lab.nodeInterface, action: action, runner: runner,
            logger: crashTortureQuietLogger)
        counter.expect(again.recovery == nil && again.incarnation > startup.incarnation, "second start-up: \(String(describing: again.recovery?.summary)) — \(replay)")
        print("  iteration \(iteration): \(kind.rawValue), kill at \(anchor) + \(delay) µs -> \(point.rawValue)\(intact ? "" : " (interface left broken)")")
        return Result(point: point, leftBroken: !intact, recovered: startup.recovery != nil)
    }
}

/// Records test issues and counts them, so the torture loop knows which iterations failed.
final class CrashTortureIssueCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded = 0

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func record(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        lock.lock()
        recorded += 1
        lock.unlock()
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !condition { record(message(), sourceLocation: sourceLocation) }
    }
}

/// The child agent of `CrashTortureHealTests`: only runs in the child process (plan in
/// `NHH_TORTURE_HEAL_CHILD`); disabled in a normal test run.
@Suite("CrashTortureHealChild", .enabled(if: ProcessInfo.processInfo.environment[healChildVariable] != nil, "child process of the heal torture only"))
struct CrashTortureHealChild {
    @Test("heal, then wait to be killed")
    func healUntilKilled() async throws {
        let text = try #require(ProcessInfo.processInfo.environment[healChildVariable])
        let plan = try JSONDecoder().decode(HealChildPlan.self, from: Data(text.utf8))
        let logger = Logger(label: "netheal.heal") { _ in CrashTortureLineLog() }
        let store = try StateStore(directory: plan.stateDirectory, logger: logger)
        let incarnation = try store.nextIncarnation()
        let healer = try InterfaceHealer(
            interface: plan.interface, action: plan.action, store: store, runner: CommandRunner(prefix: plan.prefix),
            logger: logger)
        crashTortureEmit("READY \(incarnation)")
        let report = try await healer.heal(reason: "crash torture", incarnation: incarnation)
        crashTortureEmit("DONE \(report.outcome.rawValue)")
        // Stay alive: the parent kills this process after the outcome too.
        try await Task.sleep(for: .seconds(120))
    }
}
