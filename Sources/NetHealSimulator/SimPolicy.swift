import NetHealCore

/// The decision logic of one simulated node. `NodeCore` is the product; the baselines
/// (`Baselines.swift`) implement the same shape so that `--compare` runs them in the same engine.
public protocol SimPolicy {
    /// Short name for reports ("netheal", "naive", …).
    static var policyName: String { get }
    /// A fresh process for member `me` (after a restart `pacing` is the persisted, rebased state);
    /// `graph` is the cluster's neighbour graph, built once and shared by every node.
    init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph)
    /// Feed one input; returns the effects to perform in order.
    mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect]
    /// The pacing state the policy keeps, if any (the checker reads its backoff).
    var pacingState: PacingState? { get }
    /// The decision state the node announces (report colours, storm-guard check).
    var announcedState: DecisionState { get }
    /// Exactly `handle(.viewReceived(view, direct: direct), now: now)` when that yields no effects and
    /// returns true; returns false, having done nothing, when the caller must use `handle`.
    mutating func absorbReceived(_ view: ReachabilityView, direct: Bool, now: Instant) -> Bool
    /// Whether a newer relayed view with these fields tells the node nothing new, so that it is skipped
    /// unverified as the agent skips it (`NodeCore.relayedViewIsRedundant`, docs/protocol.md §6.1).
    /// Default false: the baselines take every newer view.
    func relayedViewIsRedundant(
        origin: MemberIndex, upstream: UpstreamHealth, decision: DecisionState, reachOfMe: Reach?, now: Instant
    ) -> Bool
    /// Prefetch hint: where the policy keeps its state about its neighbour at `position`, and where
    /// that storage starts (nil: nothing to fetch). Default nil. `mutating` so that the stored policy is
    /// asked in place, not copied (changes nothing). See `NodeCore.peerStateAddress`.
    mutating func peerStateHint(position: Int) -> (element: UnsafeRawPointer, storage: UnsafeRawPointer)?
    /// Prefetch hint: where the policy's state about its `neighborCount` peers starts, and its bytes.
    mutating func peerStateExtentHint(neighborCount: Int) -> (start: UnsafeRawPointer, bytes: Int)?
    /// Prefetch hint: where the storage of the policy's sorted neighbour list starts.
    mutating func neighborListHint() -> UnsafeRawPointer?
}

extension SimPolicy {
    /// `relayedViewIsRedundant`, asked of the policy in place: a mutating call borrows the stored
    /// policy, where a non-mutating call on an array element copied the whole policy first. Changes nothing.
    @inline(__always)
    mutating func judgeRelayedInPlace(
        origin: MemberIndex, upstream: UpstreamHealth, decision: DecisionState, reachOfMe: Reach?, now: Instant
    ) -> Bool {
        relayedViewIsRedundant(origin: origin, upstream: upstream, decision: decision, reachOfMe: reachOfMe, now: now)
    }

    public mutating func absorbReceived(_ view: ReachabilityView, direct: Bool, now: Instant) -> Bool { false }
    public mutating func peerStateHint(position: Int) -> (element: UnsafeRawPointer, storage: UnsafeRawPointer)? { nil }
    public mutating func peerStateExtentHint(neighborCount: Int) -> (start: UnsafeRawPointer, bytes: Int)? { nil }
    public mutating func neighborListHint() -> UnsafeRawPointer? { nil }
    public func relayedViewIsRedundant(
        origin: MemberIndex, upstream: UpstreamHealth, decision: DecisionState, reachOfMe: Reach?, now: Instant
    ) -> Bool { false }
}

extension NodeCore: SimPolicy {
    public init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {
        self.init(roster: roster, me: me, settings: settings, pacing: pacing, seed: seed, graph: Optional(graph))
    }

    public static var policyName: String { "netheal" }
    public var pacingState: PacingState? { pacing }
    public var announcedState: DecisionState { state }
    public mutating func peerStateHint(position: Int) -> (element: UnsafeRawPointer, storage: UnsafeRawPointer)? {
        peerStateAddress(position: position)
    }
    public mutating func peerStateExtentHint(neighborCount: Int) -> (start: UnsafeRawPointer, bytes: Int)? {
        peerStateExtent(neighborCount: neighborCount)
    }
    public mutating func neighborListHint() -> UnsafeRawPointer? { neighborListAddress() }
    public mutating func absorbReceived(_ view: ReachabilityView, direct: Bool, now: Instant) -> Bool {
        receiveView(view, direct: direct, now: now)
    }
}
