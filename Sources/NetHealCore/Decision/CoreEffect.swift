/// What the core asks its shell to do. The shell performs effects in order and holds no decision logic.
/// The rare cases with large payloads are `indirect` (boxed), so the common gossip and probe effects
/// stay small when effects are appended, moved and matched (a 264-byte enum otherwise).
public enum CoreEffect: Hashable, Sendable {
    /// Send this node's view to `to`, each datagram also carrying the latest stored views of the
    /// origins in `relay` (the shell may skip a relayed view whose origin is the recipient). The shell
    /// stamps incarnation, a fresh sequence per view, wall time and config digest, signs and sends.
    case gossip(content: ViewContent, to: [MemberIndex], relay: [MemberIndex])
    /// Probe every upstream target once and report back with `.probeRound`.
    case runProbeRound
    /// Cycle the managed interface with the given step of the action ladder; report with `.healFinished`.
    indirect case cycleInterface(HealOrder)
    /// Dry run: the core would have cycled the interface now. Log it; do nothing else.
    indirect case wouldHeal(HealOrder)
    /// Persist this pacing state (the agent must store it before performing later effects).
    indirect case persist(PacingState)
    /// The decision (state or rule) changed; this record explains the new one.
    indirect case decisionChanged(DecisionRecord)
}

/// The part of a view the core decides; the wire layer adds the stamp (incarnation, sequence, time,
/// config digest) and the signature.
public struct ViewContent: Hashable, Sendable {
    /// This node's own upstream judgement.
    public var upstream: UpstreamHealth
    /// This node's decision state (peers' storm guard reads it).
    public var decision: DecisionState
    /// This node's reachability of every member, in member order, `.isSelf` in its own slot (full
    /// mesh); or of each member of `reachSubjects` (neighbourhood mode).
    public var reach: [Reach]
    /// Nil in a full mesh (the default); otherwise this node's neighbours, ascending.
    public var reachSubjects: [MemberIndex]?

    public init(upstream: UpstreamHealth, decision: DecisionState, reach: [Reach], reachSubjects: [MemberIndex]? = nil) {
        self.upstream = upstream
        self.decision = decision
        self.reach = reach
        self.reachSubjects = reachSubjects
    }

    /// The full view once the shell has chosen the stamp.
    public func view(
        origin: MemberIndex, incarnation: UInt64, sequence: UInt64, originTimeMillis: UInt64, configDigest: UInt64
    ) -> ReachabilityView {
        ReachabilityView(
            origin: origin, incarnation: incarnation, sequence: sequence, originTimeMillis: originTimeMillis,
            configDigest: configDigest, upstream: upstream, decision: decision, reach: reach,
            reachSubjects: reachSubjects)
    }
}

/// An order to heal (or, in dry run, the heal that would have happened).
public struct HealOrder: Hashable, Sendable, Codable {
    /// The rule that decided the heal (`accuserQuorumHeal` or `isolationHeal`).
    public var rule: DecisionRule
    /// One line for logs, e.g. "3 of 4 fresh peers accuse, quorum 3, no voucher".
    public var reason: String
    /// The action step of the escalation ladder, 0-based (0 = the first configured action).
    public var step: Int
    /// How many heals (including this one) fall in the current budget window.
    public var healsInWindow: Int

    public init(rule: DecisionRule, reason: String, step: Int, healsInWindow: Int) {
        self.rule = rule
        self.reason = reason
        self.step = step
        self.healsInWindow = healsInWindow
    }
}
