import NetHealCore

/// Decision-step figures: the cost of `NodeCore.handle` for one received view, and of one tick (which
/// re-evaluates the evidence over every member and builds the gossip), at `n` members.
struct CoreBench {
    let n: Int

    /// A roster of `n` members (keys are not used by the core).
    static func roster(_ n: Int) -> ClusterRoster {
        ClusterRoster(clusterID: "bench-fleet", members: (0..<n).map { .init(name: "n\($0)", publicKey: []) })
    }

    /// A core for member 0 that has run a good probe round and holds a fresh view of every peer.
    /// One reach array is shared by all views (the core reads only the slot of `me`; the cost of
    /// `handle` does not depend on the other slots), so a 10,000-member fleet needs no 100 MB of views.
    static func warmCore(_ n: Int, now: Instant) -> (NodeCore, [Reach]) {
        var core = NodeCore(roster: roster(n), me: MemberIndex(0), settings: HealSettings(), pacing: nil, seed: 5)
        _ = core.handle(.started, now: .zero)
        _ = core.handle(.probeRound(.init(targets: [.init(target: "gw", outcome: .answered)])), now: .zero)
        var reach = [Reach](repeating: .reachable, count: n)
        reach[0] = .reachable
        for origin in core.neighbors.map(\.int) {
            _ = core.handle(.viewReceived(view(origin, 1, reach, listed: !core.isFullMesh), direct: true), now: now)
        }
        return (core, reach)
    }

    /// A healthy view of `origin`: dense over `reach` in a full mesh; in neighbourhood mode (docs/scaling.md)
    /// a listed view naming member 0 (the benchmarked node) and, like a real one, ≤ 31 other neighbours.
    static func view(_ origin: Int, _ sequence: UInt64, _ reach: [Reach], listed: Bool = false) -> ReachabilityView {
        var subjects: [MemberIndex]?
        var values = reach
        if listed {
            let others = (1...31).map { (origin + $0 * 97) % reach.count }.filter { $0 != origin && $0 != 0 }
            subjects = Array(Set(others + [0])).sorted().map { MemberIndex($0) }
            values = [Reach](repeating: .reachable, count: subjects!.count)
        }
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 1, sequence: sequence, originTimeMillis: 0, configDigest: 0,
            upstream: .up, decision: .healthy, reach: values, reachSubjects: subjects)
    }

    func rows(_ s: BenchSettings, verifyAnchor: () -> Void) -> [BenchRow] {
        let start = Instant.zero + .seconds(1)
        var (core, reach) = Self.warmCore(n, now: start)
        var sequence: UInt64 = 1
        var now = start
        var tickCore = core
        var tickNow = start
        let probeCore = core
        // The same node with its own probes failing: every evaluation now tallies every peer's view
        // (healthy nodes stop at their own probes). Everyone vouches, so it holds (voucher-hold).
        var failingCore = core
        let failed = ProbeRoundResult(targets: [.init(target: "gw", outcome: .timedOut)])
        for _ in 0..<HealSettings().failureRounds { _ = failingCore.handle(.probeRound(failed), now: start) }
        var failingNow = start
        let size = membersLabel(n)
        // Views from the node's neighbours in turn (every member in a full mesh), pre-built per origin.
        let origins = core.neighbors.map(\.int)
        let listed = !core.isFullMesh
        var templates = origins.map { Self.view($0, 1, reach, listed: listed) }
        var k = 0
        let step = Measure.paired(runs: s.runs, duration: s.runDuration, {
            k = k + 1 == origins.count ? 0 : k + 1
            if k == 0 { sequence += 1 }
            now = now + .microseconds(10)
            templates[k].sequence = sequence
            blackHole(core.handle(.viewReceived(templates[k], direct: true), now: now))
        }, verifyAnchor)
        // A tick every gossip interval: every tick evaluates and gossips (the most expensive kind).
        let tick = Measure.paired(runs: s.runs, duration: s.runDuration, {
            tickNow = tickNow + .seconds(1)
            blackHole(tickCore.handle(.tick, now: tickNow))
        }, verifyAnchor)
        let failingTick = Measure.paired(runs: s.runs, duration: s.runDuration, {
            failingNow = failingNow + .seconds(1)
            blackHole(failingCore.handle(.tick, now: failingNow))
        }, verifyAnchor)
        // Where a tick's time goes: the two O(members) parts it is made of, measured alone.
        let content = Measure.paired(runs: s.runs, duration: s.runDuration, {
            blackHole(probeCore.viewContent(now: start))
        }, verifyAnchor)
        let evidence = Measure.paired(runs: s.runs, duration: s.runDuration, {
            blackHole(probeCore.evidence(now: start))
        }, verifyAnchor)
        reach = []
        let anchor = "raw crypto_sign_verify_detached"
        func row(_ figure: String, _ p: Measure.Pair, _ note: String = "") -> BenchRow {
            BenchRow(figure: figure, size: size, median: p.a, unit: "ops/s", anchor: anchor, anchorMedian: p.b,
                     ratio: p.ratio, runs: s.runs, note: note)
        }
        return [
            row("decision step per received view (handle .viewReceived)", step),
            row("tick of a healthy node: evaluation + gossip (handle .tick)", tick, "\(Self.micros(tick.a)) µs per tick"),
            row("tick while own probes fail: evaluation tallies every peer + gossip", failingTick,
                "\(Self.micros(failingTick.a)) µs per tick"),
            row("  part of a tick: own view content (reach of every member)", content, "\(Self.micros(content.a)) µs"),
            row("  part of a tick: evidence tally over every peer (evidence(now:))", evidence, "\(Self.micros(evidence.a)) µs"),
        ]
    }

    /// Microseconds per operation at `rate` operations per second, 3 significant figures.
    static func micros(_ rate: Double) -> String {
        let us = 1e6 / rate
        if us >= 100 { return String(Int(us.rounded())) }
        if us >= 10 { return String(Double(Int((us * 10).rounded())) / 10) }
        return String(Double(Int((us * 100).rounded())) / 100)
    }
}
