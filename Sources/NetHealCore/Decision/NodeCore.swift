/// The decision core of one node: pure, deterministic, driven by inputs, answering with effects.
///
/// The agent and the simulator both own one `NodeCore` per node and call `handle(_:now:)` for every
/// input. The core reads no clock (time is `now`), draws randomness only from its seeded `SplitMix64`
/// (gossip order), performs no I/O and never lets Dictionary/Set order decide anything: all per-member
/// state lives in arrays indexed by `MemberIndex`. The rules are described in docs/design.md.
public struct NodeCore: Sendable {
    /// The cluster as the cluster file lists it.
    public let roster: ClusterRoster
    /// This node.
    public let me: MemberIndex
    /// The members this node watches and gossips with, ascending: every other member in a full mesh,
    /// its neighbourhood in a large cluster (`NeighborGraph`). Per-peer state below is indexed by the
    /// position ("slot") of the peer in this list.
    public private(set) var neighbors: [MemberIndex]
    /// True when `neighbors` is every other member (views are dense bitmaps).
    public private(set) var isFullMesh: Bool
    /// Per neighbour (by slot): the newest view held and when it was last heard directly, in one
    /// 40-byte element, so that a received view touches one element (one cache line, one
    /// copy-on-write check) instead of two optionals in two arrays.
    var peers: [PeerState]
    var lastHeardAny: Instant?
    var startedAt: Instant?
    var nextGossipAt = Instant.zero
    var nextProbeAt = Instant.zero
    var probeOutstandingSince: Instant?
    var gossipOrder: [MemberIndex] = []
    var gossipCursor = 0
    var relayCursor = 0
    /// When the evidence first said "heal" in the current stretch (start of the intent dwell).
    var waitingSince: Instant?
    /// Age bounds derived from `settings` (kept in step by its `didSet`).
    var bounds: DerivedBounds
    // Stored after the per-peer state that every received view touches (the layout follows the
    // declaration order: the hot fields share cache lines).
    /// The settings in force.
    public internal(set) var settings: HealSettings {
        didSet { bounds = DerivedBounds(settings: settings, memberCount: roster.count) }
    }
    /// The heal budget and history (persist it on every `.persist` effect).
    public internal(set) var pacing: PacingState
    /// The decision state this node announces.
    public internal(set) var state: DecisionState = .starting
    /// The rule behind `state`.
    public internal(set) var rule: DecisionRule = .starting
    /// False while the operator's off switch is set.
    public internal(set) var healingEnabled = true

    /// Why the node is in its state (`reason` is its text).
    var reasonText = ReasonText.literal("starting: no probe round yet")
    var rng: SplitMix64
    var probes = ProbeTracker()

    /// A core for member `me` of `roster`.
    /// - Parameters:
    ///   - pacing: the state persisted before a restart (already `rebased`), or nil on first start.
    ///   - seed: seeds the gossip order; any value works, a different one per node spreads load.
    ///   - graph: the cluster's neighbour graph for `settings.neighborhoodSize`, when the caller already
    ///     built it (the simulator shares one among all nodes); nil builds it from the roster.
    public init(
        roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64,
        graph: NeighborGraph? = nil
    ) {
        precondition(me.int < roster.count, "member index \(me) outside a roster of \(roster.count)")
        self.roster = roster
        self.me = me
        self.settings = settings
        self.bounds = DerivedBounds(settings: settings, memberCount: roster.count)
        self.pacing = pacing ?? PacingState()
        self.rng = SplitMix64(seed: seed)
        let graph =
            graph.flatMap { $0.memberCount == roster.count && $0.size == max(2, settings.neighborhoodSize) ? $0 : nil }
            ?? NeighborGraph(roster: roster, size: settings.neighborhoodSize)
        self.neighbors = graph.neighbors(of: me)
        self.isFullMesh = graph.isFullMesh
        self.peers = Array(repeating: PeerState(), count: neighbors.count)
    }

    // MARK: Prefetch hints (for a simulator: `NetHealSimulator/Simulation+Prefetch.swift`)
    //
    // Addresses a simulator hands the CPU's prefetcher before this node's next event. They are computed
    // from the one word where an array keeps its storage and the standard library's storage header
    // (32 bytes on 64-bit platforms) without reading the array: reading its count would wait for the
    // very line the hint is meant to fetch. A caller never reads through them, so a wrong address only
    // fetches a useless line (NetHealCoreTests' `PrefetchHintTests` check them against the arrays). `mutating` only so
    // that a core held in place (an array element) is not copied to be asked; nothing changes.

    /// The start of an array's storage object (its header, then its elements).
    @inline(__always)
    static func storageAddress<T>(_ array: [T]) -> UnsafeRawPointer {
        unsafeBitCast(array, to: UnsafeRawPointer.self)
    }

    /// Bytes before an array's first element in its storage object.
    public static var arrayHeaderBytes: Int { 32 }

    /// Where the state about the neighbour at `position` in `neighbors` is, and where the storage
    /// holding it starts (its header: a mutation checks the count there).
    public mutating func peerStateAddress(position: Int) -> (element: UnsafeRawPointer, storage: UnsafeRawPointer) {
        let storage = Self.storageAddress(peers)
        return (storage + Self.arrayHeaderBytes + position &* MemoryLayout<PeerState>.stride, storage)
    }

    /// Where the state about all neighbours starts (storage header first), and its bytes for
    /// `neighborCount` neighbours (a gossip round reads all of it).
    public mutating func peerStateExtent(neighborCount: Int) -> (start: UnsafeRawPointer, bytes: Int) {
        (Self.storageAddress(peers), Self.arrayHeaderBytes + neighborCount &* MemoryLayout<PeerState>.stride)
    }

    /// Where the sorted neighbour list's storage starts (header first; both the core and a decoder's
    /// watermarks search it).
    public mutating func neighborListAddress() -> UnsafeRawPointer { Self.storageAddress(neighbors) }

    /// The position of `member` in `neighbors`, or nil when it is not a neighbour. Inlined: called from
    /// mutating methods, an out-of-line call copied the whole core first.
    @inline(__always)
    func slot(of member: MemberIndex) -> Int? {
        if isFullMesh {
            guard member != me, member.int < roster.count else { return nil }
            return member < me ? member.int : member.int - 1
        }
        return neighbors.positionInSorted(of: member)
    }

    /// A new neighbourhood size changes who this node watches: rebuild the peer state from scratch.
    mutating func adoptNeighborhood(of newSettings: HealSettings) {
        guard newSettings.neighborhoodSize != settings.neighborhoodSize else { return }
        let graph = NeighborGraph(roster: roster, size: newSettings.neighborhoodSize)
        neighbors = graph.neighbors(of: me)
        isFullMesh = graph.isFullMesh
        peers = Array(repeating: PeerState(), count: neighbors.count)
        relayCursor = 0
    }

    /// Feed one input; returns the effects to perform, in order.
    public mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        var effects: [CoreEffect] = []
        if startedAt == nil { start(now: now, effects: &effects) }
        switch input {
        case .started:
            evaluate(now: now, effects: &effects)
        case .tick:
            // A tick usually orders a probe round and a gossip round: room for both (and a decision) at once.
            effects.reserveCapacity(4)
            scheduleProbe(now: now, effects: &effects)
            let announce = evaluate(now: now, effects: &effects)
            gossipIfDue(now: now, announce: announce, effects: &effects)
        case .probeRound(let result):
            probeOutstandingSince = nil
            probes.record(result, settings: settings)
            let announce = evaluate(now: now, effects: &effects)
            if announce { gossipIfDue(now: now, announce: true, effects: &effects) }
        case .viewReceived(let view, let direct):
            absorb(view, direct: direct, now: now)
        case .healFinished(let outcome):
            finishAction(outcome, now: now, effects: &effects)
            let announce = evaluate(now: now, effects: &effects)
            if announce { gossipIfDue(now: now, announce: true, effects: &effects) }
        case .settingsChanged(let newSettings):
            adoptNeighborhood(of: newSettings)
            settings = newSettings
            gossipOrder = []
            evaluate(now: now, effects: &effects)
        case .setHealingEnabled(let enabled):
            healingEnabled = enabled
            evaluate(now: now, effects: &effects)
        }
        return effects
    }

    private mutating func start(now: Instant, effects: inout [CoreEffect]) {
        startedAt = now
        nextGossipAt = now
        nextProbeAt = now
        // A heal whose action was running when the agent stopped: its outcome is unknown. It stays
        // counted in the budget and is judged by the probes after a settle time from now.
        if var running = pacing.inProgress, running.actionFinishedAt == nil, !running.dryRun {
            running.actionFinishedAt = now
            pacing.inProgress = running
            if let last = pacing.history.indices.last, pacing.history[last].result == .pending {
                pacing.history[last].detail = "agent restarted during the heal action"
            }
            effects.append(.persist(pacing))
        }
    }
}

/// What this node holds about one neighbour: the newest view of it, reduced to what the decision
/// needs, and when it was last heard directly. Flags instead of optionals keep the element at 40 bytes.
struct PeerState: Sendable {
    /// Version of the held view (meaningful when `hasView`).
    var version = ViewVersion(incarnation: 0, sequence: 0)
    /// When the held view was received (meaningful when `hasView`).
    var receivedAt = Instant.zero
    /// When the neighbour was last heard directly, i.e. its own view in a datagram (meaningful when
    /// `heardDirect`).
    var lastDirect = Instant.zero
    /// A view of this neighbour is held.
    var hasView = false
    /// The neighbour has been heard directly at least once.
    var heardDirect = false
    /// The held view was received directly from its origin (only such views are relayed).
    var firstHand = false
    var upstream = UpstreamHealth.unknown
    var decision = DecisionState.starting
    /// What the origin says about this node.
    var reachOfMe = Reach.unknown
    /// Where this node was in the neighbour's last listed view (`reachSubjects`): a hint, checked
    /// before use (`absorb`). Fills the element's last two bytes.
    var positionOfMe: UInt16 = 0

    /// The held view's receive time, nil when none is held.
    var viewReceivedAt: Instant? { hasView ? receivedAt : nil }
    /// When last heard directly, nil when never.
    var lastHeardDirect: Instant? { heardDirect ? lastDirect : nil }

    /// Keep a newer view (one write to the element: a single uniqueness check on the array).
    @inline(__always)
    mutating func hold(
        _ version: ViewVersion, receivedAt now: Instant, direct: Bool, upstream: UpstreamHealth,
        decision: DecisionState, reachOfMe: Reach, positionOfMe: UInt16
    ) {
        self.version = version
        self.receivedAt = now
        self.hasView = true
        self.firstHand = direct
        self.upstream = upstream
        self.decision = decision
        self.reachOfMe = reachOfMe
        self.positionOfMe = positionOfMe
        if direct {
            self.lastDirect = now
            self.heardDirect = true
        }
    }
}
