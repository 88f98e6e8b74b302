/// The rule that produced a decision. The raw value is a stable short id (logs, `status`, metrics labels).
public enum DecisionRule: String, Hashable, Sendable, Codable, CaseIterable {
    /// Not enough probe rounds yet to judge the upstream.
    case starting = "starting"
    /// Own probes succeed: healthy, never cycle.
    case ownProbesOK = "own-probes-ok"
    /// Own probes have started failing, fewer than `failureRounds` rounds in a row.
    case ownProbesSuspect = "own-probes-suspect"
    /// The upstream counts as failing but the last probe round answered (recovery hysteresis): never cycle.
    case ownProbesRecovering = "own-probes-recovering"
    /// Own probes fail and no peer was heard for `isolationWindow` (or the cluster has one member): heal.
    case isolationHeal = "isolation-heal"
    /// As `isolationHeal`, but `isolationPolicy` is `.hold`.
    case isolationHold = "isolation-hold"
    /// Own probes fail but a fresh peer still reaches this node: the fault is beyond its interface.
    case voucherHold = "voucher-hold"
    /// Own probes fail, fresh peers fail upstream too, and no accuser quorum: an upstream outage.
    case upstreamOutageHold = "upstream-outage-hold"
    /// Own probes fail, no voucher, and a quorum of healthy peers cannot reach this node: heal.
    case accuserQuorumHeal = "accuser-quorum-heal"
    /// Own probes fail, no voucher, nobody fails upstream, but too few accusers for the quorum: hold.
    case accuserQuorumShort = "accuser-quorum-short"
    /// The evidence says heal; announcing the intent for `healIntentDwell` before starting.
    case healIntent = "heal-intent"
    /// The evidence says heal, but too many fresh peers are healing or ahead in line (storm guard).
    case stormGuardWait = "storm-guard-wait"
    /// The evidence says heal, but the minimum interval or the heal budget forbids it now.
    case pacingWait = "pacing-wait"
    /// The evidence says heal, but the backoff after failed heals has not run out.
    case backoffWait = "backoff-wait"
    /// A heal action is running.
    case healInProgress = "heal-in-progress"
    /// A heal action finished; waiting `settleTime` before judging it by the probes.
    case healSettling = "heal-settling"
    /// Dry run: a heal would have been started now (or its simulated settle is running).
    case dryRun = "dry-run"
    /// Healing is switched off by the operator.
    case disabled = "disabled"

    /// The stable short id.
    public var id: String { rawValue }
}

/// One decision with its explanation: what `status` prints and what `.decisionChanged` carries.
public struct DecisionRecord: Hashable, Sendable, Codable {
    /// When the decision was made (node's monotonic clock).
    public var at: Instant
    /// The state the node announces.
    public var state: DecisionState
    /// The rule that fired.
    public var rule: DecisionRule
    /// One line for a human, e.g. "own probes fail, 2 fresh peers still reach me (n2, n3): not my interface".
    public var reason: String
    /// The peer and probe evidence the rule was applied to.
    public var evidence: Evidence
    /// The pacing state at the time of the decision.
    public var pacing: PacingSummary

    public init(
        at: Instant, state: DecisionState, rule: DecisionRule, reason: String, evidence: Evidence,
        pacing: PacingSummary
    ) {
        self.at = at
        self.state = state
        self.rule = rule
        self.reason = reason
        self.evidence = evidence
        self.pacing = pacing
    }
}

/// The evidence behind a decision. Name lists are in member order and hold at most
/// `Evidence.nameLimit` names; the counts are always complete.
public struct Evidence: Hashable, Sendable, Codable {
    /// Longest name list kept in a record.
    public static let nameLimit = 32

    /// This node's own upstream judgement and probe history.
    public var probes: ProbeSummary
    /// Peers whose view was received within the (effective) view freshness.
    public var freshPeers: Int
    /// Accusers needed for `accuserQuorumHeal` given `freshPeers`.
    public var quorum: Int
    /// Fresh peers that report this node reachable.
    public var voucherCount: Int
    public var vouchers: [String]
    /// Fresh peers that are up upstream and report this node unreachable.
    public var accuserCount: Int
    public var accusers: [String]
    /// Fresh peers whose own upstream is failing.
    public var upstreamFailingCount: Int
    public var upstreamFailing: [String]
    /// Peers without a fresh view.
    public var silentCount: Int
    public var silent: [String]
    /// Fresh peers healing (or dry-run healing), plus waiting peers of higher priority (storm guard).
    public var healingAheadCount: Int
    public var healingAhead: [String]
    /// How many may heal at once here (storm guard limit, at least 1).
    public var concurrentHealLimit: Int
    /// Milliseconds since any peer was heard directly (since start when none was); nil in a one-member cluster.
    public var millisSinceAnyPeerHeard: Int64?

    public init(probes: ProbeSummary) {
        self.probes = probes
        freshPeers = 0
        quorum = 1
        voucherCount = 0
        vouchers = []
        accuserCount = 0
        accusers = []
        upstreamFailingCount = 0
        upstreamFailing = []
        silentCount = 0
        silent = []
        healingAheadCount = 0
        healingAhead = []
        concurrentHealLimit = 1
        millisSinceAnyPeerHeard = nil
    }
}

/// This node's own probe evidence.
public struct ProbeSummary: Hashable, Sendable, Codable {
    /// The judgement after `failureRounds`/`recoveryRounds` hysteresis.
    public var upstream: UpstreamHealth
    /// Failed rounds in a row (0 after a good round).
    public var consecutiveFailedRounds: Int
    /// Good rounds in a row (0 after a failed round).
    public var consecutiveGoodRounds: Int
    /// The last rounds, oldest first: "+" good, "-" failed (at most 16).
    public var history: String
    /// The per-target outcomes of the last round.
    public var lastRound: [ProbeTargetResult]
}

/// The pacing state as `status` shows it.
public struct PacingSummary: Hashable, Sendable, Codable {
    /// Earliest time a new heal may start (nil = now).
    public var nextHealAllowedAt: Instant?
    /// Heals (and dry-run would-heals) started within `healBudgetWindow`.
    public var healsInWindow: Int
    /// The budget (`maxHealsPerWindow`).
    public var maxHealsPerWindow: Int
    /// Heals in a row that did not help.
    public var consecutiveFailures: Int
    /// The backoff now in force after failed heals, in milliseconds (0 when none).
    public var backoffMillis: Int64
    /// The escalation step the next heal uses.
    public var escalationStep: Int
    /// A heal is running or settling.
    public var healInProgress: Bool
}
