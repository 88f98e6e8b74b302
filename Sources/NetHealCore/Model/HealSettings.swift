/// The protocol and decision settings every node of a cluster shares (the cluster file's `protocol:`
/// section). Every field has a documented default; `validate()` checks ranges once.
public struct HealSettings: Hashable, Sendable {
    // MARK: Gossip

    /// How often a node makes a new view and sends it. Default 1 s.
    public var gossipInterval: Duration = .seconds(1)
    /// How many peers a node sends its view to per gossip round (all peers when there are fewer). Default 8.
    public var gossipFanout: Int = 8
    /// How many other members' latest views a datagram relays besides the sender's own. Default 2.
    public var relayedViewsPerDatagram: Int = 2
    /// The most peers one node watches and gossips with. A cluster with more members than this plus
    /// one runs in neighbourhood mode: every node has a fixed, symmetric set of at most this many
    /// neighbours derived from the cluster file, and its views list only them (docs/scaling.md).
    /// Default 32.
    public var neighborhoodSize: Int = 32
    /// A peer not heard directly for this long counts as unreachable in this node's view. Default 4 s.
    public var peerSilenceTimeout: Duration = .seconds(4)
    /// A peer's view counts as evidence for this long after it was received (local clock). Default 8 s.
    public var viewFreshness: Duration = .seconds(8)

    // MARK: Own probes

    /// How often a probe round runs over the upstream targets. Default 1 s.
    public var probeInterval: Duration = .seconds(1)
    /// How long one probe waits for an answer. Default 800 ms.
    public var probeTimeout: Duration = .milliseconds(800)
    /// Consecutive failed rounds (no target answered) before upstream counts as failing (K). Default 3.
    public var failureRounds: Int = 3
    /// Consecutive good rounds before a failing upstream counts as up again (hysteresis). Default 2.
    public var recoveryRounds: Int = 2

    // MARK: Decision

    /// Accusers needed to heal: this fraction of the peers this node holds fresh views from, rounded
    /// down, plus one (a strict majority at 0.5). Default 0.5.
    public var accuserQuorumFraction: Double = 0.5
    /// Lower bound on the accusers needed, whatever the fraction gives. Default 1.
    public var accuserQuorumMinimum: Int = 1
    /// With own probes failing and no peer heard for this long, the node counts as isolated. Default 6 s.
    public var isolationWindow: Duration = .seconds(6)
    /// What an isolated node does (its own interface is the most likely fault). Default `.heal`.
    public var isolationPolicy: IsolationPolicy = .heal

    // MARK: Storm guard

    /// At most this many members heal at once: a node does not start a heal while this many fresh peers
    /// are healing (or waiting ahead of it). Default 1.
    public var maxConcurrentHeals: Int = 1
    /// ...nor while floor(this fraction × (fresh peers + 1)) are; the limit is never below 1. Default 0.2.
    public var maxConcurrentHealFraction: Double = 0.2
    /// How long a node announces its intent (`DecisionState.waiting`) before it starts a heal, so that
    /// two nodes wanting to heal at once see each other and the lower priority yields. Default 1 s.
    public var healIntentDwell: Duration = .seconds(1)

    // MARK: Pacing

    /// Minimum time between two heals of this node. Default 60 s.
    public var minHealInterval: Duration = .seconds(60)
    /// Wait after a heal that did not help; doubles per consecutive failure. Default 60 s.
    public var backoffInitial: Duration = .seconds(60)
    /// Upper bound of the backoff. Default 1 h.
    public var backoffMax: Duration = .seconds(3600)
    /// At most this many heals per `healBudgetWindow`. Default 3.
    public var maxHealsPerWindow: Int = 3
    /// The window of the heal budget. Default 1 h.
    public var healBudgetWindow: Duration = .seconds(3600)
    /// Time after a heal before its outcome is judged by the probes. Default 10 s.
    public var settleTime: Duration = .seconds(10)
    /// If the shell reports no outcome for a heal action within this long, the core counts it as
    /// timed out (a safety net; the shell enforces its own action timeout). Default 120 s.
    public var healActionDeadline: Duration = .seconds(120)
    /// Escalation ladder: after this many consecutive failed heals the next configured action step is
    /// used (step = failures / this, capped at `escalationSteps - 1`). 0 = off (always step 0). Default 0.
    public var escalationAfterFailures: Int = 0
    /// Number of configured action steps on the ladder (the node file's action list). Default 1.
    public var escalationSteps: Int = 1

    // MARK: Effects

    /// Decide and record "would heal", never perform the heal. Default false.
    public var dryRun: Bool = false

    public init() {}
}

/// What a node does when its own probes fail and it has heard no peer for the isolation window.
public enum IsolationPolicy: String, Hashable, Sendable, CaseIterable {
    /// Heal: a node that hears nobody most likely has a dead interface (default).
    case heal
    /// Hold: never heal without a peer's accusation.
    case hold
}
