import Foundation
import Logging

/// Heals one managed interface with the configured action, and never leaves it down.
///
/// Order of a heal: snapshot the interface; write the intent (target snapshot included) to the
/// journal — atomically and fsynced — and refuse to act if that fails; run the action's commands
/// (every one, each with its timeout); for `ip-link`, restore the addresses and routes the cycle
/// removed; verify (link up, addresses, default route, polling up to `verifyTimeout`); if not
/// verified and `fallbackRestore` is on, bring the link up and restore the target, verify again;
/// write the outcome. At start, `recoverUnfinishedHeal` completes a heal whose outcome is missing.
///
/// The restore target is the pre-heal snapshot merged with the last known-good baseline
/// (`recordBaseline()`, persisted per interface): a lost address is not in the pre-heal snapshot,
/// so the baseline is what brings it back. Call `recordBaseline()` while the interface is healthy.
public actor InterfaceHealer {
    /// The managed interface.
    public nonisolated let interface: String
    /// The configured action.
    public nonisolated let action: HealActionSpec

    private let store: StateStore
    private let runner: CommandRunner
    private let logger: Logger
    private let wallClock: @Sendable () -> Date
    private var journal: HealJournal
    private var journalCorruption: StateCorruption?
    private var baseline: InterfaceSnapshot?
    private var sequence: UInt64 = 0
    private var busy = false
    /// Test hook: stop dead (as a `kill -9` would) after this many action commands.
    var crashAfterActionCommands: Int?

    /// A healer for `interface`; loads the journal and the baseline from `store`.
    public init(
        interface: String, action: HealActionSpec, store: StateStore, runner: CommandRunner = CommandRunner(),
        logger: Logger = Logger(label: "netheal.heal"), wallClock: @escaping @Sendable () -> Date = { Date() }
    ) throws(HealActionError) {
        try Self.validate(interface: interface, action: action)
        self.interface = interface
        self.action = action
        self.store = store
        self.runner = runner
        self.logger = logger
        self.wallClock = wallClock
        var corruption: StateCorruption?
        self.journal = store.load(.healJournal, ifMissing: { HealJournal() }, ifCorrupt: {
            corruption = $0
            return HealJournal()
        })
        self.journalCorruption = corruption
        if case .loaded(let snapshot) = store.load(.baseline(interface: interface)) { self.baseline = snapshot }
    }

    /// Checks the interface name and the action (pure; no state or host is touched), so a start
    /// with a bad setting fails before anything changes.
    public static func validate(interface: String, action: HealActionSpec) throws(HealActionError) {
        try action.validate()
        guard !interface.isEmpty, !interface.contains("/"), !interface.contains(" ") else {
            throw HealActionError(field: "interface", message: "'\(interface)' is not an interface name")
        }
    }

    // MARK: Snapshots

    /// Reads the interface's link state, addresses and routes with `ip -json`.
    public func snapshot() async throws(HealError) -> InterfaceSnapshot {
        try await snapshot(of: interface)
    }

    private func snapshot(of interface: String) async throws(HealError) -> InterfaceSnapshot {
        let addresses = await runner.run(IPCommands.showAddresses(interface), timeout: .seconds(10))
        guard addresses.succeeded else {
            throw .snapshotFailed("\(addresses.argv.joined(separator: " ")): \(addresses.termination) \(addresses.stderr)")
        }
        let routes4 = await runner.run(IPCommands.showRoutes(interface, ipv6: false), timeout: .seconds(10))
        guard routes4.succeeded else {
            throw .snapshotFailed("\(routes4.argv.joined(separator: " ")): \(routes4.termination) \(routes4.stderr)")
        }
        // IPv6 may be disabled on the host: no IPv6 routes then.
        let routes6 = await runner.run(IPCommands.showRoutes(interface, ipv6: true), timeout: .seconds(10))
        do {
            return try InterfaceSnapshot.parse(
                interface: interface, addrJSON: addresses.stdout, routes4JSON: routes4.stdout,
                routes6JSON: routes6.succeeded ? routes6.stdout : "[]", takenAtMillis: nowMillis())
        } catch {
            throw .snapshotFailed(error.description)
        }
    }

    /// Records the current state as the known-good baseline (persisted when it changed). Call it
    /// while probes succeed. Refuses a snapshot whose link is down.
    @discardableResult
    public func recordBaseline() async throws(HealError) -> InterfaceSnapshot {
        let current = try await snapshot()
        guard current.linkUp else { throw .snapshotFailed("not recording a baseline while \(interface) is down") }
        let changed = baseline.map { $0.addresses != current.addresses || $0.routes != current.routes } ?? true
        baseline = current
        if changed {
            do {
                try store.save(current, to: .baseline(interface: interface))
            } catch {
                throw .state(error)
            }
        }
        return current
    }

    /// The last known-good baseline, if any.
    public var knownGoodBaseline: InterfaceSnapshot? { baseline }

    /// The newest journal entries, newest first (for `status`).
    public func recentHeals(limit: Int = 10) -> [HealJournalEntry] {
        Array(journal.entries.suffix(max(0, limit)).reversed())
    }

    // MARK: Heal

    /// Performs one heal (see the type's documentation). Throws only when it did not act: another
    /// heal is running, an unfinished heal has not been recovered yet (call
    /// `recoverUnfinishedHeal` first), or the intent could not be recorded.
    public func heal(reason: String, incarnation: UInt64) async throws(HealError) -> HealReport {
        guard !busy else { throw .healInProgress }
        if let pending = journal.unfinished { throw .unfinishedHealPending(id: pending.intent.id) }
        busy = true
        defer { busy = false }
        let prefix = "\(incarnation)-"
        let used = journal.entries.compactMap { entry -> UInt64? in
            entry.intent.id.hasPrefix(prefix) ? UInt64(entry.intent.id.dropFirst(prefix.count)) : nil
        }
        sequence = max(sequence, used.max() ?? 0) + 1
        let id = prefix + "\(sequence)"
        let started = nowMillis()
        let before = try? await snapshot()
        let target = makeTarget(before: before)
        let intent = HealIntent(
            id: id, interface: interface, action: action, reason: reason, target: target,
            startedAtMillis: started, incarnation: incarnation)
        var updated = journal
        updated.append(HealJournalEntry(intent: intent))
        do {
            try store.save(updated, to: .healJournal)
        } catch {
            logger.error("heal not started: cannot record the intent", metadata: ["id": "\(id)", "error": "\(error)"])
            throw .intentNotRecorded(error)
        }
        journal = updated
        logger.notice("heal started", metadata: [
            "id": "\(id)", "interface": "\(interface)", "action": "\(action.kind.rawValue)", "reason": "\(reason)",
        ])

        var steps: [HealStep] = []
        for (index, argv) in action.actionCommands(interface: interface).enumerated() {
            steps.append(await runStep(argv, purpose: .action))
            if let crash = crashAfterActionCommands, index + 1 >= crash { throw .simulatedCrash }
        }
        if action.kind == .ipLink { steps += await restore(target) }
        var verification = await verify(target)
        var outcome: HealOutcome = verification.verified ? .healed : .failed
        if !verification.verified && action.fallbackRestore {
            logger.warning("heal left the interface incomplete; restoring", metadata: [
                "id": "\(id)", "verification": "\(verification.summary)",
            ])
            steps += await restore(target)
            verification = await verify(target)
            outcome = verification.verified ? .healedAfterRestore : .failed
        }
        let report = HealReport(
            id: id, interface: interface, action: action.kind, reason: reason, before: before, target: target,
            steps: steps, verification: verification, outcome: outcome, startedAtMillis: started,
            finishedAtMillis: nowMillis())
        finish(report)
        return report
    }

    // MARK: Recovery

    /// Completes an unfinished heal left by a crashed or killed agent: the tool's own bring-up
    /// (`ifup`, `networkctl up`, `nmcli device connect`), then, if the interface is still not up
    /// with its target addresses and routes, link up and restore; verify; record the outcome.
    /// Call it at start BEFORE anything else. Returns nil when there was nothing to complete.
    ///
    /// When the journal itself was corrupt (so an intent may have been lost), it makes sure the
    /// interface is up with its baseline addresses and routes all the same.
    public func recoverUnfinishedHeal(incarnation: UInt64) async throws(HealError) -> HealReport? {
        guard !busy else { throw .healInProgress }
        busy = true
        defer { busy = false }
        let intent: HealIntent
        if let unfinished = journal.unfinished?.intent {
            intent = unfinished
        } else if let corruption = journalCorruption {
            journalCorruption = nil
            let current = try? await snapshot()
            let target = (baseline ?? current ?? emptySnapshot()).merging(current ?? emptySnapshot())
            intent = HealIntent(
                id: "\(incarnation)-0", interface: interface, action: action,
                reason: "heal journal was corrupt (\(corruption.reason)); checking the interface",
                target: target, startedAtMillis: nowMillis(), incarnation: incarnation)
            journal.append(HealJournalEntry(intent: intent))
            // Persist the check before it acts: the corrupt journal has been set aside, so if this
            // recovery is killed (e.g. a hanging ifup and the watchdog), the next start must still
            // find an unfinished heal to complete. A failed write does not stop the repair.
            do {
                try store.save(journal, to: .healJournal)
            } catch {
                logger.error("cannot record the interface check", metadata: ["id": "\(intent.id)", "error": "\(error)"])
            }
        } else {
            return nil
        }
        let started = nowMillis()
        logger.warning("completing an unfinished heal", metadata: [
            "id": "\(intent.id)", "interface": "\(intent.interface)", "action": "\(intent.action.kind.rawValue)",
            "startedBy": "\(intent.incarnation)",
        ])
        if intent.interface != interface {
            logger.warning("the unfinished heal was of another interface; recovering that one", metadata: [
                "id": "\(intent.id)", "interface": "\(intent.interface)", "configured": "\(interface)",
            ])
        }
        var steps: [HealStep] = []
        let ownCommands = intent.action.recoveryCommands(interface: intent.interface)
        for argv in ownCommands { steps.append(await runStep(argv, purpose: .recovery)) }
        var verification = ownCommands.isEmpty ? nil : await verify(intent.target)
        if verification?.verified != true {
            steps += await restore(intent.target)
            verification = await verify(intent.target)
        }
        let final = verification!
        let report = HealReport(
            id: intent.id, interface: intent.interface, action: intent.action.kind,
            reason: "completing heal \(intent.id) (\(intent.reason)) interrupted before its outcome was recorded",
            before: nil, target: intent.target, steps: steps, verification: final,
            outcome: final.verified ? .recovered : .recoveryFailed, startedAtMillis: started,
            finishedAtMillis: nowMillis())
        finish(report)
        return report
    }

    // MARK: Helpers

    private func finish(_ report: HealReport) {
        journal.complete(id: report.id, with: report)
        do {
            try store.save(journal, to: .healJournal)
        } catch {
            // The heal is done; a restart will "recover" it, which only verifies and restores.
            logger.error("cannot record the heal outcome", metadata: ["id": "\(report.id)", "error": "\(error)"])
        }
        let metadata: Logger.Metadata = [
            "id": "\(report.id)", "interface": "\(interface)", "outcome": "\(report.outcome.rawValue)",
            "verification": "\(report.verification.summary)", "steps": "\(report.steps.count)",
        ]
        if report.outcome.succeeded {
            logger.notice("heal finished", metadata: metadata)
        } else {
            logger.error("heal finished without a working interface", metadata: metadata)
        }
    }

    private func runStep(_ argv: [String], purpose: HealStepPurpose) async -> HealStep {
        let result = await runner.run(argv, timeout: action.stepTimeout)
        logger.info("heal step", metadata: [
            "argv": "\(argv.joined(separator: " "))", "purpose": "\(purpose.rawValue)",
            "result": "\(result.termination)\(result.timedOut ? " (timed out)" : "")",
            "stderr": "\(result.stderr.prefix(300))",
        ])
        return HealStep(purpose: purpose, result: result)
    }

    /// Link up and re-add whatever of `target` is missing now.
    private func restore(_ target: InterfaceSnapshot) async -> [HealStep] {
        let current = (try? await snapshot(of: target.interface)) ?? emptySnapshot(adminUp: false)
        var steps: [HealStep] = []
        for argv in IPCommands.restorePlan(expected: target, actual: current, nowMillis: nowMillis()) {
            steps.append(await runStep(argv, purpose: .restore))
        }
        return steps
    }

    /// Polls until the interface is up with the target's addresses and default route, or until
    /// `verifyTimeout`.
    private func verify(_ target: InterfaceSnapshot) async -> HealVerification {
        let deadline = ContinuousClock.now + action.verifyTimeout
        while true {
            let verification: HealVerification
            do {
                let current = try await snapshot(of: target.interface)
                verification = HealVerification(
                    linkUp: current.linkUp, missing: SnapshotDiff(expected: target, actual: current),
                    snapshot: current, error: nil)
            } catch {
                verification = HealVerification(linkUp: false, missing: nil, snapshot: nil, error: error.description)
            }
            if verification.verified || ContinuousClock.now >= deadline { return verification }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private func makeTarget(before: InterfaceSnapshot?) -> InterfaceSnapshot {
        switch (before, baseline) {
        case (let before?, let baseline?): return before.merging(baseline)
        case (let before?, nil): return before
        case (nil, let baseline?): return baseline
        case (nil, nil): return emptySnapshot()
        }
    }

    private func emptySnapshot(adminUp: Bool = true) -> InterfaceSnapshot {
        InterfaceSnapshot(
            interface: interface, adminUp: adminUp, operState: "UNKNOWN", addresses: [], routes: [],
            takenAtMillis: nowMillis())
    }

    private func nowMillis() -> Int64 { Int64((wallClock().timeIntervalSince1970 * 1000).rounded()) }
}

/// Why a heal did not run (a heal that ran reports its result in `HealReport`, never by throwing).
public enum HealError: Error, Sendable, CustomStringConvertible {
    /// Another heal or recovery of this interface is running.
    case healInProgress
    /// The journal holds a heal without outcome: `recoverUnfinishedHeal` must run first.
    case unfinishedHealPending(id: String)
    /// The intent could not be written to the state directory, so the heal did not act.
    case intentNotRecorded(StateStoreError)
    /// A state file could not be written.
    case state(StateStoreError)
    /// `ip -json` could not be run or understood.
    case snapshotFailed(String)
    /// Test hook: the heal stopped dead, as a killed agent would.
    case simulatedCrash

    public var description: String {
        switch self {
        case .healInProgress: return "a heal of this interface is already running"
        case .unfinishedHealPending(let id):
            return "heal \(id) is unfinished; recoverUnfinishedHeal must complete it before a new heal"
        case .intentNotRecorded(let error): return "heal not started: cannot record the intent: \(error)"
        case .state(let error): return "\(error)"
        case .snapshotFailed(let message): return "cannot read the interface: \(message)"
        case .simulatedCrash: return "simulated crash (test hook)"
        }
    }
}

extension InterfaceHealer {
    /// Test hook: the next heal stops dead after `count` action commands, leaving the journal and
    /// the interface as a `kill -9` of the agent at that point would.
    func setCrashPoint(afterActionCommands count: Int?) { crashAfterActionCommands = count }
}
