/// Gossip: what this node says (content) and to whom (fanout, announcements, relays).
extension NodeCore {
    /// The view content this node would send now.
    public func viewContent(now: Instant) -> ViewContent {
        let content = reachContent(now: now)
        return ViewContent(upstream: probes.upstream, decision: state, reach: content.reach, reachSubjects: content.subjects)
    }

    /// Emit one gossip effect when the round is due, or at once (to every peer) when `announce`.
    mutating func gossipIfDue(now: Instant, announce: Bool, effects: inout [CoreEffect]) {
        let interval = settings.gossipInterval
        let due = now >= nextGossipAt - interval / 10
        guard due || announce else { return }
        if due {
            nextGossipAt = nextGossipAt + interval
            if nextGossipAt <= now { nextGossipAt = now + interval }
        }
        // While waiting, healing or dry-run healing, every round goes to every peer so that the storm
        // guard of all peers sees this node's state; otherwise the round-robin fanout.
        let targets = announce || Self.announces(state) ? allPeers() : nextFanout()
        guard !targets.isEmpty else { return }
        effects.append(.gossip(content: viewContent(now: now), to: targets, relay: relays(now: now)))
    }

    /// Every neighbour (every other member in a full mesh).
    func allPeers() -> [MemberIndex] { neighbors }

    /// The next `gossipFanout` neighbours of a seeded shuffled order (reshuffled every full pass); all
    /// of them when there are no more than the fanout.
    mutating func nextFanout() -> [MemberIndex] {
        let fanout = max(1, settings.gossipFanout)
        if neighbors.count <= fanout { return allPeers() }
        if gossipOrder.count != neighbors.count { gossipOrder = allPeers(); reshuffle() }
        var chosen: [MemberIndex] = []
        chosen.reserveCapacity(fanout)
        while chosen.count < fanout {
            if gossipCursor >= gossipOrder.count { reshuffle() }
            let next = gossipOrder[gossipCursor]
            gossipCursor += 1
            if !chosen.contains(next) { chosen.append(next) }
        }
        return chosen
    }

    /// Fisher–Yates over the current order with the core's seeded generator.
    private mutating func reshuffle() {
        var i = gossipOrder.count - 1
        while i > 0 {
            let j = Int(rng.next() % UInt64(i + 1))
            gossipOrder.swapAt(i, j)
            i -= 1
        }
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
        var urgent: [MemberIndex] = []
        var others: [MemberIndex] = []
        var lastOther = -1
        for k in 0..<n {
            let slot = (relayCursor + k) % n
            guard let view = views[slot], view.firstHand, recent.isLonger(than: now.nanoseconds &- view.receivedAt.nanoseconds) else {
                continue
            }
            if Self.announces(view.decision) {
                urgent.append(neighbors[slot])
            } else if others.count < limit {
                if others.isEmpty { others.reserveCapacity(limit) }
                others.append(neighbors[slot])
                lastOther = slot
            }
        }
        if lastOther >= 0 { relayCursor = (lastOther + 1) % n }
        // `(urgent + others).prefix(limit)`, without building the concatenation (others never exceed the limit).
        if urgent.isEmpty { return others }
        if urgent.count >= limit { return urgent.count == limit ? urgent : Array(urgent.prefix(limit)) }
        urgent.append(contentsOf: others.prefix(limit - urgent.count))
        return urgent
    }
}
