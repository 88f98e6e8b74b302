/// Gossip: what this node says (content) and to whom (fanout, announcements, relays).
extension NodeCore {
    /// The view content this node would send now.
    public func viewContent(now: Instant) -> ViewContent {
        ViewContent(upstream: probes.upstream, decision: state, reach: reachContent(now: now))
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

    func allPeers() -> [MemberIndex] {
        (0..<roster.count).compactMap { $0 == me.int ? nil : MemberIndex($0) }
    }

    /// The next `gossipFanout` peers of a seeded shuffled order (reshuffled every full pass); all peers
    /// when there are no more than the fanout.
    mutating func nextFanout() -> [MemberIndex] {
        let fanout = max(1, settings.gossipFanout)
        if roster.count - 1 <= fanout { return allPeers() }
        if gossipOrder.count != roster.count - 1 { gossipOrder = allPeers(); reshuffle() }
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

    /// Origins whose latest views this node relays: only views it received first-hand within two
    /// gossip intervals (so a relayed view is at most one hop and ~2 rounds old); origins announcing
    /// waiting/healing first, then round-robin over the rest.
    mutating func relays(now: Instant) -> [MemberIndex] {
        let limit = max(0, settings.relayedViewsPerDatagram)
        guard limit > 0, roster.count > 1 else { return [] }
        let window = settings.gossipInterval * 2
        var urgent: [MemberIndex] = []
        var others: [MemberIndex] = []
        let n = roster.count
        for k in 0..<n {
            let i = (relayCursor + k) % n
            guard i != me.int, let view = views[i], view.firstHand, now - view.receivedAt < window else { continue }
            if Self.announces(view.decision) {
                urgent.append(MemberIndex(i))
            } else if others.count < limit {
                others.append(MemberIndex(i))
            }
        }
        let chosen = Array((urgent + others).prefix(limit))
        if let last = others.last { relayCursor = (last.int + 1) % n }
        return chosen
    }
}
