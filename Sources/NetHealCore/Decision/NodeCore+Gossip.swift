/// Gossip: what this node says (content) and to whom (fanout, announcements, relays).
extension NodeCore {
    /// The view content this node would send now.
    public func viewContent(now: Instant) -> ViewContent {
        let content = reachContent(now: now)
        return ViewContent(upstream: probes.upstream, decision: state, reach: content.reach, reachSubjects: content.subjects)
    }

    /// `viewContent(now:)`, lent the core in place (`mutating` only for that; see `judge`).
    mutating func ownViewContent(now: Instant) -> ViewContent {
        let content = reachContent(now: now)
        return ViewContent(upstream: probes.upstream, decision: state, reach: content.reach, reachSubjects: content.subjects)
    }

    /// Emit one gossip effect when the round is due, or at once (to every peer) when `announce`.
    mutating func gossipIfDue(now: Instant, announce: Bool, effects: inout [CoreEffect]) {
        // `now >= nextGossipAt - gossipInterval / 10`, on Int64 nanoseconds (`bounds`).
        let due = now.nanoseconds >= nextGossipAt.nanoseconds &- bounds.gossipEarlyNanos
        guard due || announce else { return }
        if due {
            let interval = bounds.gossipIntervalNanos
            nextGossipAt = Instant(nanoseconds: nextGossipAt.nanoseconds &+ interval)
            if nextGossipAt <= now { nextGossipAt = Instant(nanoseconds: now.nanoseconds &+ interval) }
        }
        // While waiting, healing or dry-run healing, every round goes to every peer so that the storm
        // guard of all peers sees this node's state; otherwise the round-robin fanout.
        let targets = announce || Self.announces(state) ? allPeers() : nextFanout()
        guard !targets.isEmpty else { return }
        effects.append(.gossip(content: ownViewContent(now: now), to: targets, relay: relays(now: now)))
    }

    /// Every neighbour (every other member in a full mesh).
    func allPeers() -> [MemberIndex] { neighbors }

    /// The next `gossipFanout` neighbours of a seeded shuffled order (reshuffled every full pass); all
    /// of them when there are no more than the fanout.
    mutating func nextFanout() -> [MemberIndex] {
        let fanout = max(1, settings.gossipFanout)
        if neighbors.count <= fanout { return allPeers() }
        if gossipOrder.count != neighbors.count { gossipOrder = allPeers(); reshuffle() }
        // A member already chosen (a pass ended within this round and the reshuffle put it next again)
        // is skipped. Members of one pass are distinct, so only those chosen before the latest reshuffle
        // need comparing. (`reserveCapacity` and appends: specialised allocation, see `reachContent`.)
        var chosen: [MemberIndex] = []
        chosen.reserveCapacity(fanout)
        var earlierPasses = 0
        while chosen.count < fanout {
            if gossipCursor >= gossipOrder.count {
                reshuffle()
                earlierPasses = chosen.count
            }
            let next = gossipOrder[gossipCursor]
            gossipCursor += 1
            if !chosen[..<earlierPasses].contains(next) { chosen.append(next) }
        }
        return chosen
    }

    /// Fisher–Yates over the current order with the core's seeded generator (one uniqueness check on
    /// the order for the whole pass, not one per swap).
    private mutating func reshuffle() {
        var generator = rng
        gossipOrder.withUnsafeMutableBufferPointer { order in
            var i = order.count - 1
            while i > 0 {
                let j = Int(generator.next() % UInt64(i + 1))
                order.swapAt(i, j)
                i -= 1
            }
        }
        rng = generator
        gossipCursor = 0
    }

    /// Origins whose latest views this node relays: only neighbours' views it received first-hand
    /// within two gossip intervals (so a relayed view is at most one hop and ~2 rounds old); origins
    /// announcing waiting/healing first, then round-robin over the rest.
    mutating func relays(now: Instant) -> [MemberIndex] {
        let limit = max(0, settings.relayedViewsPerDatagram)
        let n = neighbors.count
        guard limit > 0, n > 0 else { return [] }
        let recent = bounds.relayWindow  // `now - receivedAt < gossipInterval * 2`, on Int64
        let t = now.nanoseconds
        let first = relayCursor % n
        var lastOther = -1
        // `(urgent + others).prefix(limit)` without building the concatenation: urgent origins (all of
        // them are scanned, only the first `limit` can be sent) go first, then the round-robin ones,
        // kept aside in a stack buffer. (`reserveCapacity` and appends: specialised allocation, see
        // `reachContent`.)
        var chosen: [MemberIndex] = []
        chosen.reserveCapacity(limit)
        peers.withUnsafeBufferPointer { peers in
            neighbors.withUnsafeBufferPointer { members in
                withUnsafeTemporaryAllocation(of: MemberIndex.self, capacity: limit) { others in
                    var otherCount = 0
                    var slot = first
                    for _ in 0..<n {
                        let p = peers[slot]
                        if p.hasView, p.firstHand, recent.isLonger(than: t &- p.receivedAt.nanoseconds) {
                            if Self.announces(p.decision) {
                                if chosen.count < limit { chosen.append(members[slot]) }
                            } else if otherCount < limit {
                                others[otherCount] = members[slot]
                                otherCount += 1
                                lastOther = slot
                            }
                        }
                        slot += 1
                        if slot == n { slot = 0 }
                    }
                    for k in 0..<otherCount where chosen.count < limit { chosen.append(others[k]) }
                }
            }
        }
        if lastOther >= 0 { relayCursor = (lastOther + 1) % n }
        return chosen
    }
}
