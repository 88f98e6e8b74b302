/// The heal budget and history of one node: a value the agent persists after every change (effect
/// `.persist`) and passes back to `NodeCore.init` after a restart, so a restart never resets the budget.
///
/// Times are `Instant`s of the process that wrote them. Monotonic clocks restart with the process, so
/// the agent stores the state together with a (wall, monotonic) pair and, on load, calls
/// `rebased(by: (newMonotonicNow - oldMonotonicAtSave) - (wallNow - wallAtSave))`, i.e. shifts every
/// instant so it keeps its wall-clock meaning on the new monotonic clock. Clamp `wallNow - wallAtSave`
/// at zero: a wall clock that stepped backwards must not shorten a backoff.
public struct PacingState: Hashable, Sendable, Codable {
    /// Heals started (including dry-run would-heals), oldest first; the last `historyLimit` are kept.
    public var history: [HealRecord]
    /// Heals in a row that did not help (reset by a verified success).
    public var consecutiveFailures: Int
    /// No heal before this instant (exponential backoff after failed heals); nil when none.
    public var backoffUntil: Instant?
    /// The action step the next heal uses (escalation ladder; 0 when the ladder is off).
    public var escalationStep: Int
    /// The heal now running or settling, if any.
    public var inProgress: HealInProgress?

    /// How many heal records are kept (more when `maxHealsPerWindow` is larger).
    public static let historyLimit = 32

    public init() {
        history = []
        consecutiveFailures = 0
        backoffUntil = nil
        escalationStep = 0
        inProgress = nil
    }

    /// The same state with every instant moved by `offset` (see the type's documentation).
    public func rebased(by offset: Duration) -> PacingState {
        var copy = self
        copy.history = history.map { var r = $0; r.startedAt = r.startedAt + offset; return r }
        copy.backoffUntil = backoffUntil.map { $0 + offset }
        copy.inProgress = inProgress.map { $0.rebased(by: offset) }
        return copy
    }

    /// When the last heal started.
    public var lastHealAt: Instant? { history.last?.startedAt }

    /// Heals started in the window `(now - window, now]`.
    public func heals(within window: Duration, endingAt now: Instant) -> Int {
        history.reduce(0) { $0 + ($1.startedAt > now - window && $1.startedAt <= now ? 1 : 0) }
    }
}

/// One heal (or dry-run would-heal) and how it ended.
public struct HealRecord: Hashable, Sendable, Codable {
    /// When the heal started.
    public var startedAt: Instant
    /// The rule that decided it.
    public var rule: DecisionRule
    /// The action step used.
    public var step: Int
    /// It was a dry-run would-heal.
    public var dryRun: Bool
    /// How it ended (`.pending` while running or settling).
    public var result: HealResult
    /// Detail for a failed action, e.g. "exit status 1" or "agent restarted during the heal".
    public var detail: String?

    public init(startedAt: Instant, rule: DecisionRule, step: Int, dryRun: Bool, result: HealResult, detail: String?) {
        self.startedAt = startedAt
        self.rule = rule
        self.step = step
        self.dryRun = dryRun
        self.result = result
        self.detail = detail
    }
}

/// The verdict on one heal.
public enum HealResult: String, Hashable, Sendable, Codable {
    /// Running or settling.
    case pending
    /// After `settleTime` the own probes had recovered.
    case succeeded
    /// After `settleTime` the own probes still failed.
    case notRecovered = "not-recovered"
    /// The action failed (non-zero exit, interface check failed) or timed out.
    case actionFailed = "action-failed"
}

/// The heal that is running or settling.
public struct HealInProgress: Hashable, Sendable, Codable {
    /// When the action was ordered.
    public var startedAt: Instant
    /// When the action finished (nil while it runs).
    public var actionFinishedAt: Instant?
    /// It is a dry-run would-heal (no action runs; settles from the start).
    public var dryRun: Bool
    /// The action step used.
    public var step: Int

    public init(startedAt: Instant, actionFinishedAt: Instant?, dryRun: Bool, step: Int) {
        self.startedAt = startedAt
        self.actionFinishedAt = actionFinishedAt
        self.dryRun = dryRun
        self.step = step
    }

    func rebased(by offset: Duration) -> HealInProgress {
        HealInProgress(
            startedAt: startedAt + offset, actionFinishedAt: actionFinishedAt.map { $0 + offset }, dryRun: dryRun,
            step: step)
    }
}

extension Instant: Codable {
    /// Encoded as its nanoseconds (a JSON integer).
    public init(from decoder: any Decoder) throws {
        self.init(nanoseconds: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanoseconds)
    }
}
