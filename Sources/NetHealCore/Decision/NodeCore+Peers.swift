/// Rule 2 (peer evidence) and rule 7 (the reach this node reports).
extension NodeCore {
    /// Store a verified view. Only a strictly newer (incarnation, sequence) than the one held counts:
    /// a duplicate or older copy, e.g. a view still circulating by relay, neither refreshes freshness
    /// nor counts as contact.
    mutating func absorb(_ view: ReachabilityView, direct: Bool, now: Instant) {
        let origin = view.origin
        guard origin != me, origin.int < roster.count, view.reach.count == roster.count else { return }
        if let held = views[origin.int], view.version <= held.version { return }
        views[origin.int] = HeldView(
            version: view.version, receivedAt: now, firstHand: direct, upstream: view.upstream,
            decision: view.decision, reachOfMe: view.reach[me.int])
        if direct {
            lastDirect[origin.int] = now
            lastHeardAny = now
        }
    }

    /// The reach this node reports: `reachable` if heard directly within the (effective) peer silence
    /// timeout; `unknown` for a member never heard while this node is younger than that timeout
    /// (startup grace); `unreachable` otherwise.
    func reachContent(now: Instant) -> [Reach] {
        let silence = settings.effectivePeerSilenceTimeout(memberCount: roster.count)
        let start = startedAt ?? now
        var reach = [Reach](repeating: .unknown, count: roster.count)
        for i in 0..<roster.count {
            if i == me.int {
                reach[i] = .isSelf
            } else if let heard = lastDirect[i] {
                reach[i] = now - heard < silence ? .reachable : .unreachable
            } else {
                reach[i] = now - start < silence ? .unknown : .unreachable
            }
        }
        return reach
    }

    /// No peer heard directly for the isolation window in force (counted from start when none ever
    /// was), or no peer exists.
    func isIsolated(now: Instant) -> Bool {
        if roster.count <= 1 { return true }
        let reference = lastHeardAny ?? startedAt ?? now
        return now - reference >= settings.effectiveIsolationWindow(memberCount: roster.count)
    }

    /// Classify every peer by its newest view. O(members).
    func tally(now: Instant) -> Tally {
        let freshness = settings.effectiveViewFreshness(memberCount: roster.count)
        var t = Tally()
        for i in 0..<roster.count where i != me.int {
            guard let view = views[i], now - view.receivedAt < freshness else {
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

/// Peers classified by their fresh views (member indices, in member order).
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
    /// Gossip rounds for a node's round-robin to reach every peer once: ceil((members - 1) / fanout).
    public func gossipRoundsPerCycle(memberCount: Int) -> Int {
        let peers = max(0, memberCount - 1)
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
