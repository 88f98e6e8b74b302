/// One member's signed statement of how it sees the fleet: the unit of gossip.
///
/// The wire format (`NetHealWire`) encodes exactly these fields, in this order, then a detached
/// Ed25519 signature over them. See docs/protocol.md.
public struct ReachabilityView: Hashable, Sendable {
    /// The member that made and signed this view.
    public var origin: MemberIndex
    /// Strictly increases every time the origin's agent starts (persisted in its state directory).
    public var incarnation: UInt64
    /// Strictly increases with every view the origin makes within one incarnation.
    public var sequence: UInt64
    /// The origin's wall clock in milliseconds since the Unix epoch. Informational only: freshness
    /// is judged by the receiver's own clock and by (incarnation, sequence), never by this field.
    public var originTimeMillis: UInt64
    /// First 8 bytes of the BLAKE2b digest of the origin's cluster file (detects diverging copies).
    public var configDigest: UInt64
    /// The origin's own upstream judgement.
    public var upstream: UpstreamHealth
    /// The origin's decision state.
    public var decision: DecisionState
    /// Dense (`reachSubjects == nil`, protocol layout 1): the origin's reachability of every member,
    /// in member order, `reach[origin] == .isSelf`. Listed (layout 2): `reach[k]` is the origin's
    /// reachability of `reachSubjects[k]`, never `.isSelf`.
    public var reach: [Reach]
    /// Nil for a dense view (the default); otherwise the members `reach` speaks of, strictly
    /// ascending, without the origin: its neighbours in a large cluster (docs/scaling.md).
    public var reachSubjects: [MemberIndex]?

    public init(
        origin: MemberIndex, incarnation: UInt64, sequence: UInt64, originTimeMillis: UInt64,
        configDigest: UInt64, upstream: UpstreamHealth, decision: DecisionState, reach: [Reach],
        reachSubjects: [MemberIndex]? = nil
    ) {
        self.origin = origin
        self.incarnation = incarnation
        self.sequence = sequence
        self.originTimeMillis = originTimeMillis
        self.configDigest = configDigest
        self.upstream = upstream
        self.decision = decision
        self.reach = reach
        self.reachSubjects = reachSubjects
    }

    /// What the origin says about `member`: nil when a listed view does not list it, or when a dense
    /// view has no such slot.
    @inlinable
    public func reach(of member: MemberIndex) -> Reach? {
        guard let subjects = reachSubjects else { return member.int < reach.count ? reach[member.int] : nil }
        guard let position = subjects.positionInSorted(of: member), position < reach.count else { return nil }
        return reach[position]
    }

    /// The reach of every member in member order (a listed view expanded: members it does not list are
    /// `.unknown`, the origin's slot `.isSelf`), for displays such as `status`.
    public func denseReach(memberCount: Int) -> [Reach] {
        Reach.dense(reach, subjects: reachSubjects, origin: origin, memberCount: memberCount)
    }

    /// The (incarnation, sequence) pair that orders views of one origin.
    public var version: ViewVersion { ViewVersion(incarnation: incarnation, sequence: sequence) }
}

/// Orders the views of one origin: a later incarnation wins, then a later sequence.
public struct ViewVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var incarnation: UInt64
    public var sequence: UInt64

    public init(incarnation: UInt64, sequence: UInt64) {
        self.incarnation = incarnation
        self.sequence = sequence
    }

    public static func < (lhs: ViewVersion, rhs: ViewVersion) -> Bool {
        (lhs.incarnation, lhs.sequence) < (rhs.incarnation, rhs.sequence)
    }

    public var description: String { "\(incarnation).\(sequence)" }
}

extension Reach {
    /// `reach` as one value per member in member order: unchanged when `subjects` is nil (already
    /// dense), else the listed values in place, `.isSelf` at `origin` and `.unknown` elsewhere.
    public static func dense(_ reach: [Reach], subjects: [MemberIndex]?, origin: MemberIndex, memberCount: Int) -> [Reach] {
        guard let subjects else { return reach }
        var out = [Reach](repeating: .unknown, count: memberCount)
        if origin.int < memberCount { out[origin.int] = .isSelf }
        for (member, value) in zip(subjects, reach) where member.int < memberCount { out[member.int] = value }
        return out
    }
}
