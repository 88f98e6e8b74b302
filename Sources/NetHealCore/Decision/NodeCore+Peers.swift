/// Rule 2 (peer evidence) and rule 7 (the reach this node reports).
extension NodeCore {
    /// `handle(.viewReceived(view, direct: direct), now: now)` without building an input or an effect
    /// list, for callers feeding many views (the simulator): returns true when it did exactly that
    /// (a started core takes a view without effects), false, having done nothing, when the core has not
    /// started yet (then call `handle`, which may return effects).
    public mutating func receiveView(_ view: ReachabilityView, direct: Bool, now: Instant) -> Bool {
        guard startedAt != nil else { return false }
        absorb(view, direct: direct, now: now)
        return true
    }

    /// Store a verified view. Only a strictly newer (incarnation, sequence) than the one held counts:
    /// a duplicate or older copy, e.g. a view still circulating by relay, neither refreshes freshness
    /// nor counts as contact.
    mutating func absorb(_ view: ReachabilityView, direct: Bool, now: Instant) {
        let origin = view.origin
        guard origin != me, let slot = slot(of: origin) else { return }
        // The checks that ignore a view all return before anything changes, so their order does not
        // matter: the cheap version check first.
        let version = view.version
        let held = peers[slot]
        if held.hasView, version <= held.version { return }
        // `view.reach(of: me)`. A listed view lists its origin's neighbours, the same list view after
        // view: the position of this node in it is remembered per neighbour and only checked (the
        // wire layer passes strictly ascending lists, where a position holding `me` after a smaller
        // member is exactly the one the binary search finds).
        let reachOfMe: Reach
        var position = held.positionOfMe
        if let subjects = view.reachSubjects {
            let p = Int(position)
            if p < subjects.count, p < view.reach.count, subjects[p] == me, p == 0 || subjects[p &- 1] < me {
                reachOfMe = view.reach[p]
            } else {
                guard let found = subjects.positionInSorted(of: me), found < view.reach.count else { return }
                reachOfMe = view.reach[found]
                position = UInt16(truncatingIfNeeded: found)
            }
        } else {
            guard me.int < view.reach.count, view.reach.count == roster.count else { return }
            reachOfMe = view.reach[me.int]
        }
        peers[slot].hold(
            version, receivedAt: now, direct: direct, upstream: view.upstream, decision: view.decision,
            reachOfMe: reachOfMe, positionOfMe: position)
        if direct { lastHeardAny = now }
    }

    /// Whether a relayed view of `origin` newer than the one held would change nothing this node
    /// decides with, so the receiver may skip it without verifying its signature: the held view says
    /// the same (upstream, decision, reach of this node) and is younger than half the view freshness
    /// in force (so a skipped refresh never lets the held view expire: one is accepted at least every
    /// half freshness window while the origin's views keep arriving). The inputs come from the
    /// unverified bytes; a forged copy can at most make the node skip that copy. Views sent directly by
    /// their origin are never skipped this way: they are the authenticated proof of contact.
    public func relayedViewIsRedundant(
        origin: MemberIndex, upstream: UpstreamHealth, decision: DecisionState, reachOfMe: Reach?, now: Instant
    ) -> Bool {
        guard let reachOfMe, let slot = slot(of: origin) else { return false }
        let held = peers[slot]
        guard held.hasView else { return false }
        // `now - held.receivedAt < effectiveViewFreshness / 2`, on Int64.
        return held.upstream == upstream && held.decision == decision && held.reachOfMe == reachOfMe
            && bounds.relayRefresh.isLonger(than: now.nanoseconds &- held.receivedAt.nanoseconds)
    }

    /// The reach this node reports about each neighbour: `reachable` if heard directly within the
    /// (effective) peer silence timeout; `unknown` for one never heard while this node is younger than
    /// that timeout (startup grace); `unreachable` otherwise. Dense (every member, `.isSelf` in this
    /// node's slot) in a full mesh; listed over `neighbors` in neighbourhood mode.
    @inline(__always)
    func reachContent(now: Instant) -> (reach: [Reach], subjects: [MemberIndex]?) {
        let start = startedAt ?? now
        let bound = bounds.peerSilence  // `now - t < effectivePeerSilenceTimeout`, on Int64
        let t = now.nanoseconds
        // Every neighbour never heard gets the same answer (startup grace or not).
        let neverHeard: Reach = bound.isLonger(than: t &- start.nanoseconds) ? .unknown : .unreachable
        let n = neighbors.count
        // Dense in a full mesh: `.isSelf` inserted at this node's index (every other member is a neighbour).
        let selfAt = isFullMesh ? me.int : -1
        precondition(selfAt <= n, "member index \(me) outside a full mesh of \(n + 1)")
        // `reserveCapacity` and appends: the storage comes from code specialised for the element type
        // (`init(unsafeUninitializedCapacity:)` allocates through an unspecialised stdlib entry point that
        // looks the storage class up in the runtime's metadata cache on every call).
        var reach: [Reach] = []
        reach.reserveCapacity(selfAt >= 0 ? n + 1 : n)
        peers.withUnsafeBufferPointer { peers in
            for slot in 0..<n {
                if slot == selfAt { reach.append(.isSelf) }
                let p = peers[slot]
                reach.append(
                    p.heardDirect
                        ? (bound.isLonger(than: t &- p.lastDirect.nanoseconds) ? .reachable : .unreachable) : neverHeard)
            }
            if selfAt == n { reach.append(.isSelf) }
        }
        return (reach, isFullMesh ? nil : neighbors)
    }

    /// No peer heard directly for the isolation window in force (counted from start when none ever
    /// was), or no peer exists.
    func isIsolated(now: Instant) -> Bool {
        if neighbors.isEmpty { return true }
        let reference = lastHeardAny ?? startedAt ?? now
        // `now - reference >= effectiveIsolationWindow`, on Int64.
        return !bounds.isolation.isLonger(than: now.nanoseconds &- reference.nanoseconds)
    }

    /// Classify every neighbour by its newest view. O(neighbours): one pass marks each neighbour's
    /// classes, then each non-empty list is written once into storage of its exact size.
    func tally(now: Instant) -> Tally {
        let fresh = bounds.viewFreshness  // `now - receivedAt < effectiveViewFreshness`, on Int64
        let t0 = now.nanoseconds
        let mine = me.int
        let n = neighbors.count
        var t = Tally()
        if n > 0 {
            peers.withUnsafeBufferPointer { peers in
                neighbors.withUnsafeBufferPointer { members in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { marks in
                        var counts = (silent: 0, vouchers: 0, accusers: 0, upstreamFailing: 0, healingAhead: 0)
                        for slot in 0..<n {
                            let p = peers[slot]
                            var mark: UInt8 = 0
                            if p.hasView, fresh.isLonger(than: t0 &- p.receivedAt.nanoseconds) {
                                t.fresh += 1
                                switch p.reachOfMe {
                                case .reachable:
                                    mark |= Self.voucherMark
                                    counts.vouchers += 1
                                case .unreachable where p.upstream == .up:
                                    mark |= Self.accuserMark
                                    counts.accusers += 1
                                default: break
                                }
                                if p.upstream == .failing {
                                    mark |= Self.upstreamFailingMark
                                    counts.upstreamFailing += 1
                                }
                                switch p.decision {
                                case .healing, .dryRun:
                                    mark |= Self.healingAheadMark
                                    counts.healingAhead += 1
                                case .waiting where members[slot].int < mine:
                                    mark |= Self.healingAheadMark
                                    counts.healingAhead += 1
                                default: break
                                }
                            } else {
                                mark = Self.silentMark
                                counts.silent += 1
                            }
                            marks[slot] = mark
                        }
                        let marked = UnsafeBufferPointer(marks)
                        func list(_ bit: UInt8, _ count: Int) -> [Int] {
                            guard count > 0 else { return [] }
                            // Specialised allocation (see `reachContent`).
                            var out: [Int] = []
                            out.reserveCapacity(count)
                            for slot in 0..<n where marked[slot] & bit != 0 { out.append(members[slot].int) }
                            return out
                        }
                        t.silent = list(Self.silentMark, counts.silent)
                        t.vouchers = list(Self.voucherMark, counts.vouchers)
                        t.accusers = list(Self.accuserMark, counts.accusers)
                        t.upstreamFailing = list(Self.upstreamFailingMark, counts.upstreamFailing)
                        t.healingAhead = list(Self.healingAheadMark, counts.healingAhead)
                    }
                }
            }
        }
        let fraction = settings.accuserQuorumFraction
        t.quorum = max(settings.accuserQuorumMinimum, Int((fraction * Double(t.fresh)).rounded(.down)) + 1)
        let byFraction = Int((settings.maxConcurrentHealFraction * Double(t.fresh + 1)).rounded(.down))
        t.concurrentHealLimit = max(1, min(settings.maxConcurrentHeals, byFraction))
        return t
    }

    /// The classes `tally` marks a neighbour with (bits of one byte per neighbour).
    private static var silentMark: UInt8 { 1 }
    private static var voucherMark: UInt8 { 2 }
    private static var accuserMark: UInt8 { 4 }
    private static var upstreamFailingMark: UInt8 { 8 }
    private static var healingAheadMark: UInt8 { 16 }
}

/// Neighbours classified by their fresh views (member indices, in member order).
struct Tally: Sendable {
    var fresh = 0
    var vouchers: [Int] = []
    var accusers: [Int] = []
    var upstreamFailing: [Int] = []
    var silent: [Int] = []
    /// Healing or dry-run healing peers, and waiting peers of higher priority (lower index).
    var healingAhead: [Int] = []
    var quorum = 1
    var concurrentHealLimit = 1
}

extension HealSettings {
    /// The most peers a node of a `memberCount`-member cluster watches: every other member, capped at
    /// `neighborhoodSize` (the bound on a neighbourhood, docs/scaling.md).
    public func watchedPeers(memberCount: Int) -> Int {
        min(max(0, memberCount - 1), max(2, neighborhoodSize))
    }

    /// Gossip rounds for a node's round-robin to reach every watched peer once:
    /// ceil(watchedPeers / fanout).
    public func gossipRoundsPerCycle(memberCount: Int) -> Int {
        let peers = watchedPeers(memberCount: memberCount)
        let fanout = max(1, gossipFanout)
        return max(1, (peers + fanout - 1) / fanout)
    }

    /// The peer silence timeout in force: `peerSilenceTimeout`, raised to 2 × rounds-per-cycle gossip
    /// intervals when the fanout cannot reach every peer each round (a peer may then go up to
    /// 2 × cycle − 1 rounds between two datagrams to a given member).
    public func effectivePeerSilenceTimeout(memberCount: Int) -> Duration {
        let rounds = gossipRoundsPerCycle(memberCount: memberCount)
        return rounds <= 1 ? peerSilenceTimeout : max(peerSilenceTimeout, gossipInterval * (2 * rounds))
    }

    /// The isolation window in force: `isolationWindow`, raised like the silence timeout for large
    /// clusters. With a round-robin fanout a given peer sends to this node once per cycle of rounds,
    /// so a node on a small island (a rack that lost its uplink, the small side of a partition) may
    /// hear its island peers only every 2 × cycle − 1 rounds: a shorter window would call it
    /// isolated — and heal it — although its interface works (found by the simulator's swarm).
    public func effectiveIsolationWindow(memberCount: Int) -> Duration {
        let rounds = gossipRoundsPerCycle(memberCount: memberCount)
        return rounds <= 1 ? isolationWindow : max(isolationWindow, gossipInterval * (2 * rounds))
    }

    /// The view freshness in force: `viewFreshness`, raised like the silence timeout for large clusters.
    public func effectiveViewFreshness(memberCount: Int) -> Duration {
        let rounds = gossipRoundsPerCycle(memberCount: memberCount)
        return rounds <= 1 ? viewFreshness : max(viewFreshness, gossipInterval * (2 * rounds))
    }
}
