/// What a view's origin says about one other member: two bits on the wire.
public enum Reach: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// No opinion: the origin has never heard this member, or only recently started.
    case unknown = 0
    /// The origin heard this member directly within the freshness window.
    case reachable = 1
    /// The origin heard this member before (or should have) and has not heard it within the window.
    case unreachable = 2
    /// The slot of the origin itself.
    case isSelf = 3

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .reachable: "reachable"
        case .unreachable: "unreachable"
        case .isSelf: "self"
        }
    }
}

/// A member's own judgement of its upstream (gateway and anchors), from its own probes.
public enum UpstreamHealth: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Not enough probe rounds yet to say.
    case unknown = 0
    /// At least one target answered in the recent rounds (after hysteresis).
    case up = 1
    /// K consecutive rounds in which no target answered.
    case failing = 2

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .up: "up"
        case .failing: "failing"
        }
    }
}

/// The decision state a member announces in its views (used by peers' storm guard and by `status`).
public enum DecisionState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Starting up: not enough evidence for any decision yet.
    case starting = 0
    /// Own probes succeed.
    case healthy = 1
    /// Own probes have started failing, not yet for K rounds.
    case suspect = 2
    /// Own probes fail, but the evidence says "not my interface" (or pacing/storm guard forbids a heal).
    case hold = 3
    /// A heal (interface cycle) is in progress or settling.
    case healing = 4
    /// A heal was done and did not help; waiting out the backoff.
    case backoff = 5
    /// Decisions are made but no effect is performed (dry run / shadow mode).
    case dryRun = 6
    /// Healing is switched off (off switch or maintenance window).
    case disabled = 7
    /// The evidence says heal and pacing allows it; the node announces its intent for one gossip round
    /// (`healIntentDwell`) and yields to healing peers and to waiting peers of higher priority (storm guard).
    case waiting = 8

    public var description: String {
        switch self {
        case .starting: "starting"
        case .healthy: "healthy"
        case .suspect: "suspect"
        case .hold: "hold"
        case .healing: "healing"
        case .backoff: "backoff"
        case .dryRun: "dry-run"
        case .disabled: "disabled"
        case .waiting: "waiting"
        }
    }
}
