import Testing

@testable import NetHealCore

/// The per-neighbour state (`PeerState`) and the passes over it (`tally`, `reachContent`), checked
/// against a direct reading of rules 2 and 7 (docs/design.md §4, §9) for random view streams: what
/// is held, fresh, reachable and accused must not depend on how the core stores or scans it.
struct PeerStateTests {
    /// What the test expects the core to hold about one origin.
    struct Held {
        var version: ViewVersion
        var receivedAt: Instant
        var upstream: UpstreamHealth
        var decision: DecisionState
        var reachOfMe: Reach
    }

    @Test func peerStateFillsFortyBytes() {
        // One element per neighbour touched by every received view: two 64-byte lines hold three.
        #expect(MemoryLayout<PeerState>.stride == 40)
    }

    @Test(arguments: [20, 200])
    func classificationAndReachMatchTheRulesForRandomViews(size: Int) {
        let roster = Fleet.roster(size: size)
        let settings = HealSettings()
        let me = MemberIndex(size / 2)
        var core = NodeCore(roster: roster, me: me, settings: settings, pacing: nil, seed: 3)
        let graph = NeighborGraph(roster: roster, size: settings.neighborhoodSize)
        let neighbors = core.neighbors
        let freshness = settings.effectiveViewFreshness(memberCount: size)
        let silence = settings.effectivePeerSilenceTimeout(memberCount: size)
        var rng = SplitMix64(seed: UInt64(size))
        var now = Instant(nanoseconds: 5_000_000_000)
        let start = now
        _ = core.handle(.started, now: now)
        var held: [Int: Held] = [:]
        var lastDirect: [Int: Instant] = [:]
        var sequence = [UInt64](repeating: 0, count: size)
        let reaches: [Reach] = [.unknown, .reachable, .unreachable]
        let states: [DecisionState] = [.healthy, .hold, .waiting, .healing, .dryRun, .suspect]
        let healths: [UpstreamHealth] = [.unknown, .up, .failing]
        for step in 0..<3000 {
            now = now + .milliseconds(Int(rng.next() % 300))
            // Mostly neighbours, sometimes a stranger (never evidence) or this node itself.
            let origin = rng.next() % 8 == 0 ? Int(rng.next() % UInt64(size)) : neighbors[Int(rng.next() % UInt64(neighbors.count))].int
            // Mostly newer, sometimes a replay of an old sequence (must change nothing).
            let replay = sequence[origin] > 2 && rng.next() % 6 == 0
            let seq = replay ? sequence[origin] - 1 - rng.next() % 2 : sequence[origin] + 1 + rng.next() % 2
            if !replay { sequence[origin] = seq }
            let reachOfMe = reaches[Int(rng.next() % 3)]
            let upstream = healths[Int(rng.next() % 3)]
            let decision = states[Int(rng.next() % UInt64(states.count))]
            let direct = rng.next() % 3 != 0
            var view = ReachabilityView(
                origin: MemberIndex(origin), incarnation: 1, sequence: seq, originTimeMillis: 0, configDigest: 0,
                upstream: upstream, decision: decision, reach: [])
            var listsMe = true
            if core.isFullMesh {
                view.reach = (0..<size).map { $0 == origin ? .isSelf : ($0 == me.int ? reachOfMe : .reachable) }
            } else {
                // The origin's neighbours, some dropped at random: this node's position in the list moves.
                var subjects = graph.neighbors(of: MemberIndex(origin)).filter { $0 == me || rng.next() % 4 != 0 }
                if rng.next() % 10 == 0 { subjects.removeAll { $0 == me } }
                listsMe = subjects.contains(me)
                view.reachSubjects = subjects
                view.reach = subjects.map { $0 == me ? reachOfMe : .unreachable }
            }
            _ = core.handle(.viewReceived(view, direct: direct), now: now)
            let isNeighbor = neighbors.contains(MemberIndex(origin))
            if isNeighbor, listsMe, held[origin].map({ view.version > $0.version }) ?? true {
                held[origin] = Held(
                    version: view.version, receivedAt: now, upstream: upstream, decision: decision, reachOfMe: reachOfMe)
                if direct { lastDirect[origin] = now }
            }
            guard step % 7 == 0 else { continue }
            // Rule 2: classification of every neighbour by its newest fresh view, in member order.
            var vouchers: [String] = []
            var accusers: [String] = []
            var failing: [String] = []
            var silent: [String] = []
            var ahead: [String] = []
            for m in neighbors.map(\.int) {
                let name = "n\(m)"
                guard let h = held[m], now - h.receivedAt < freshness else {
                    silent.append(name)
                    continue
                }
                if h.reachOfMe == .reachable { vouchers.append(name) }
                if h.reachOfMe == .unreachable, h.upstream == .up { accusers.append(name) }
                if h.upstream == .failing { failing.append(name) }
                if h.decision == .healing || h.decision == .dryRun || (h.decision == .waiting && m < me.int) {
                    ahead.append(name)
                }
            }
            let evidence = core.evidence(now: now)
            #expect(evidence.freshPeers == neighbors.count - silent.count, "step \(step)")
            #expect(evidence.vouchers == Array(vouchers.prefix(Evidence.nameLimit)), "step \(step)")
            #expect(evidence.voucherCount == vouchers.count)
            #expect(evidence.accusers == Array(accusers.prefix(Evidence.nameLimit)), "step \(step)")
            #expect(evidence.accuserCount == accusers.count)
            #expect(evidence.upstreamFailing == Array(failing.prefix(Evidence.nameLimit)), "step \(step)")
            #expect(evidence.silent == Array(silent.prefix(Evidence.nameLimit)), "step \(step)")
            #expect(evidence.silentCount == silent.count)
            #expect(evidence.healingAhead == Array(ahead.prefix(Evidence.nameLimit)), "step \(step)")
            // Rule 7: the reach this node reports about each neighbour.
            var expected = neighbors.map { m -> Reach in
                if let heard = lastDirect[m.int] { return now - heard < silence ? .reachable : .unreachable }
                return now - start < silence ? .unknown : .unreachable
            }
            let content = core.viewContent(now: now)
            if core.isFullMesh {
                expected.insert(.isSelf, at: me.int)
                #expect(content.reachSubjects == nil)
            } else {
                #expect(content.reachSubjects == neighbors)
            }
            #expect(content.reach == expected, "step \(step)")
        }
        #expect(held.count > neighbors.count / 2, "the stream reached most neighbours")
    }

    @Test func probeRoundsAreDueATenthOfTheIntervalEarlyAndWaitForAnOutstandingRound() {
        let roster = Fleet.roster(size: 3)
        var core = NodeCore(roster: roster, me: MemberIndex(0), settings: HealSettings(), pacing: nil, seed: 1)
        func probes(at ms: Int64) -> Bool {
            core.handle(.tick, now: Instant(nanoseconds: ms * 1_000_000)).contains(.runProbeRound)
        }
        let answered = ProbeRoundResult(targets: [.init(target: "gw", outcome: .answered)])
        #expect(probes(at: 0))
        _ = core.handle(.probeRound(answered), now: Instant(nanoseconds: 10_000_000))
        #expect(!probes(at: 899), "due at 1 s, a tenth early is 0.9 s")
        #expect(probes(at: 900))
        // Not answered: the next is due at 2 s, but one is outstanding since 0.9 s for 1 s + 2 × 0.8 s.
        #expect(!probes(at: 1_900))
        #expect(!probes(at: 3_499))
        #expect(probes(at: 3_500))
    }

    @Test func isolationStartsExactlyAtTheWindow() {
        // Full mesh of 3: isolation window 6 s, counted from start when no peer was ever heard.
        var solo = Solo(size: 3)
        solo.probesOK = false
        solo.advance(.milliseconds(5_999), step: .milliseconds(5_999))
        #expect(!solo.core.isIsolated(now: solo.now))
        #expect(solo.core.isIsolated(now: solo.now + .milliseconds(1)))
        solo.view(from: 1, reachOfMe: .unreachable)
        #expect(!solo.core.isIsolated(now: solo.now + .milliseconds(5_999)))
        #expect(solo.core.isIsolated(now: solo.now + .seconds(6)))
    }
}
