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
        guard origin != me, let slot = slot(of: origin), let reachOfMe = view.reach(of: me) else { return }
        if view.reachSubjects == nil, view.reach.count != roster.count { return }
        if let held = views[slot], view.version <= held.version { return }
        views[slot] = HeldView(
            version: view.version, receivedAt: now, firstHand: direct, upstream: view.upstream,
            decision: view.decision, reachOfMe: reachOfMe)
        if direct {
            lastDirect[slot] = now
            lastHeardAny = now
        }
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
        guard let reachOfMe, let slot = slot(of: origin), let held = views[slot] else { return false }
        // `now - held.receivedAt < effectiveViewFreshness / 2`, on Int64.
        return held.upstream == upstream && held.decision == decision && held.reachOfMe == reachOfMe
            && bounds.relayRefresh.isLonger(than: now.nanoseconds &- held.receivedAt.nanoseconds)
    }

    /// The reach this node reports about each neighbour: `reachable` if heard directly within the
    /// (effective) peer silence timeout; `unknown` for one never heard while this node is younger than
    /// that timeout (startup grace); `unreachable` otherwise. Dense (every member, `.isSelf` in this
    /// node's slot) in a full mesh; listed over `neighbors` in neighbourhood mode.
    func reachContent(now: Instant) -> (reach: [Reach], subjects: [MemberIndex]?) {
        let start = startedAt ?? now
        let bound = bounds.peerSilence  // `now - t < effectivePeerSilenceTimeout`, on Int64
        var listed = [Reach](repeating: .unknown, count: neighbors.count)
        for slot in neighbors.indices {
            if let heard = lastDirect[slot] {
                listed[slot] = bound.isLonger(than: now.nanoseconds &- heard.nanoseconds) ? .reachable : .unreachable
            } else {
                listed[slot] = bound.isLonger(than: now.nanoseconds &- start.nanoseconds) ? .unknown : .unreachable
            }
        }
        guard isFullMesh else { return (listed, neighbors) }
        var dense = listed
        dense.insert(.isSelf, at: me.int)
        return (dense, nil)
    }

    /// No peer heard directly for the isolation window in force (counted from start when none ever
    /// was), or no peer exists.
    func isIsolated(now: Instant) -> Bool {
        if neighbors.isEmpty { return true }
        let reference = lastHeardAny ?? startedAt ?? now
        return now - reference >= settings.effectiveIsolationWindow(memberCount: roster.count)
    }

    /// Classify every neighbour by its newest view. O(neighbours).
    func tally(now: Instant) -> Tally {
        let fresh = bounds.viewFreshness  // `now - receivedAt < effectiveViewFreshness`, on Int64
        var t = Tally()
        // Sized first (a counting pass over the same views), so that each list is allocated at most once.
        var counts = (vouchers: 0, accusers: 0, upstreamFailing: 0, silent: 0, healingAhead: 0)
        for slot in neighbors.indices {
            guard let view = views[slot], fresh.isLonger(than: now.nanoseconds &- view.receivedAt.nanoseconds) else {
                counts.silent += 1
                continue
            }
            switch view.reachOfMe {
            case .reachable: counts.vouchers += 1
            case .unreachable where view.upstream == .up: counts.accusers += 1
            default: break
            }
            if view.upstream == .failing { counts.upstreamFailing += 1 }
            switch view.decision {
            case .healing, .dryRun: counts.healingAhead += 1
            case .waiting where neighbors[slot].int < me.int: counts.healingAhead += 1
            default: break
            }
        }
        if counts.vouchers > 0 { t.vouchers.reserveCapacity(counts.vouchers) }
        if counts.accusers > 0 { t.accusers.reserveCapacity(counts.accusers) }
        if counts.upstreamFailing > 0 { t.upstreamFailing.reserveCapacity(counts.upstreamFailing) }
        if counts.silent > 0 { t.silent.reserveCapacity(counts.silent) }
        if counts.healingAhead > 0 { t.healingAhead.reserveCapacity(counts.healingAhead) }
        for slot in neighbors.indices {
            let i = neighbors[slot].int
            guard let view = views[slot], fresh.isLonger(than: now.nanoseconds &- view.receivedAt.nanoseconds) else {
                t.silent.append(i)
                continue
            }
            t.fresh += 1
            switch view.reachOfMe {
            case .reachable: t.vouchers.append(i)
            case .unreachable where view.upstream == .up: t.accusers.append(i)
            default: break
            }
            if view.upstream == .failing { t.upstreamFailing.append(i) }
            switch view.decision {
            case .healing, .dryRun: t.healingAhead.append(i)
            case .waiting where i < me.int: t.healingAhead.append(i)
            default: break
            }
        }
        let fraction = settings.accuserQuorumFraction
        t.quorum = max(settings.accuserQuorumMinimum, Int((fraction * Double(t.fresh)).rounded(.down)) + 1)
        let byFraction = Int((settings.maxConcurrentHealFraction * Double(t.fresh + 1)).rounded(.down))
        t.concurrentHealLimit = max(1, min(settings.maxConcurrentHeals, byFraction))
        return t
    }
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
