/// Everything that can happen to a node, as the shell (agent or simulator) reports it to `NodeCore`.
///
/// Every input comes with `now` (the node's monotonic clock); the core never reads a clock itself.
public enum CoreInput: Hashable, Sendable {
    /// The shell has started (or restarted) the node. Optional: the first input of any kind also starts it.
    case started
    /// Call at least every `min(gossipInterval, probeInterval)`; the core decides what is due.
    case tick
    /// The outcome of one probe round over the upstream targets (after `.runProbeRound`).
    case probeRound(ProbeRoundResult)
    /// A view that the wire layer has verified (signature, cluster, member) and found newer than any
    /// view of that origin seen before. `direct` = it is the sender's own view in a datagram, i.e. this
    /// node has just heard that peer itself; `false` = it was relayed by another member.
    case viewReceived(ReachabilityView, direct: Bool)
    /// The heal action ordered by `.cycleInterface` has finished.
    case healFinished(HealOutcome)
    /// The settings were reloaded (the cluster file changed). Pacing history is kept.
    case settingsChanged(HealSettings)
    /// The operator's off switch / maintenance window: `false` blocks every heal (state `disabled`).
    case setHealingEnabled(Bool)
}

/// One probe round: the outcome for every configured upstream target.
public struct ProbeRoundResult: Hashable, Sendable, Codable {
    /// Per target, in configuration order.
    public var targets: [ProbeTargetResult]

    public init(targets: [ProbeTargetResult]) { self.targets = targets }

    /// A round is good when any target answered. An empty round (no targets) counts as failed.
    public var anyAnswered: Bool { targets.contains { $0.outcome == .answered } }
}

/// The outcome of probing one target in one round.
public struct ProbeTargetResult: Hashable, Sendable, Codable {
    /// The target as configured, e.g. "gateway 198.18.0.1" (for the decision record only).
    public var target: String
    /// What happened.
    public var outcome: ProbeOutcome

    public init(target: String, outcome: ProbeOutcome) {
        self.target = target
        self.outcome = outcome
    }
}

/// What one probe of one target produced. Encodes as one string: "answered", "timed-out" or
/// "send-error:ENETUNREACH".
public enum ProbeOutcome: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The target answered within `probeTimeout`.
    case answered
    /// No answer within `probeTimeout`.
    case timedOut
    /// The probe could not be sent (e.g. "ENETUNREACH", "EHOSTUNREACH"): a failure, not "no answer yet".
    case sendError(String)

    public var description: String {
        switch self {
        case .answered: "answered"
        case .timedOut: "timed-out"
        case .sendError(let error): "send-error:" + error
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "answered": self = .answered
        case "timed-out": self = .timedOut
        case _ where text.hasPrefix("send-error:"): self = .sendError(String(text.dropFirst("send-error:".count)))
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown probe outcome \"\(text)\""))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How a heal action ended, as the shell observed it.
public enum HealOutcome: Hashable, Sendable, Codable {
    /// The action exited 0 and the shell verified the interface (up, address, default route).
    case completed
    /// The action exited non-zero or the interface check failed; `detail` says which.
    case failed(detail: String)
    /// The action did not finish within the shell's action timeout.
    case timedOut
}
