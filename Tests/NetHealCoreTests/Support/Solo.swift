import NetHealCore

/// One core driven by hand: the test plays every peer by feeding views, and decides probe outcomes.
struct Solo {
    let roster: ClusterRoster
    var core: NodeCore
    var now = Instant.zero
    var effects: [CoreEffect] = []
    /// Every effect with the instant it was produced.
    var timeline: [(at: Instant, effect: CoreEffect)] = []
    /// Fed back at once after a `.cycleInterface` (nil: the test feeds `.healFinished` itself).
    var autoComplete: HealOutcome? = .completed
    var sequence: [UInt64]
    var probesOK = true

    init(size: Int, me: Int = 0, settings: HealSettings = HealSettings(), pacing: PacingState? = nil) {
        roster = Fleet.roster(size: size)
        core = NodeCore(roster: roster, me: MemberIndex(me), settings: settings, pacing: pacing, seed: 7)
        sequence = Array(repeating: 0, count: size)
        feed(.started)
    }

    var me: Int { core.me.int }

    @discardableResult
    mutating func feed(_ input: CoreInput) -> [CoreEffect] {
        let produced = core.handle(input, now: now)
        effects += produced
        timeline += produced.map { (now, $0) }
        for effect in produced {
            switch effect {
            case .runProbeRound:
                let outcome: ProbeOutcome = probesOK ? .answered : .sendError("ENETUNREACH")
                feed(.probeRound(.init(targets: [.init(target: "gw", outcome: outcome)])))
            case .cycleInterface:
                if let outcome = autoComplete { feed(.healFinished(outcome)) }
            default:
                break
            }
        }
        return produced
    }

    /// When each heal (or dry-run would-heal) was ordered.
    var healTimes: [Instant] {
        timeline.compactMap {
            switch $0.effect {
            case .cycleInterface, .wouldHeal: $0.at
            default: nil
            }
        }
    }

    /// The last persisted pacing state.
    var lastPersisted: PacingState? {
        for effect in effects.reversed() { if case .persist(let state) = effect { return state } }
        return nil
    }

    /// The rules of every decision change, in order.
    var rules: [DecisionRule] {
        effects.compactMap { if case .decisionChanged(let record) = $0 { record.rule } else { nil } }
    }

    /// Feed a view exactly as given.
    mutating func feed(view: ReachabilityView, direct: Bool) { feed(.viewReceived(view, direct: direct)) }

    /// A view from `origin` saying `reachOfMe` about this node (others: reachable).
    mutating func view(
        from origin: Int, upstream: UpstreamHealth = .up, decision: DecisionState = .healthy,
        reachOfMe: Reach, direct: Bool = true, originTimeMillis: UInt64 = 1_700_000_000_000
    ) {
        sequence[origin] += 1
        var reach = [Reach](repeating: .reachable, count: roster.count)
        reach[origin] = .isSelf
        reach[me] = reachOfMe
        let view = ReachabilityView(
            origin: MemberIndex(origin), incarnation: 1, sequence: sequence[origin], originTimeMillis: originTimeMillis,
            configDigest: 0, upstream: upstream, decision: decision, reach: reach)
        feed(.viewReceived(view, direct: direct))
    }

    /// Advance time in `step`s, ticking after each step (probe rounds answer at once with `probesOK`).
    mutating func advance(_ duration: Duration, step: Duration = .seconds(1), each: (inout Solo) -> Void = { _ in }) {
        let end = now + duration
        while now < end {
            now = min(end, now + step)
            each(&self)
            feed(.tick)
        }
    }

    var cycles: [HealOrder] {
        effects.compactMap { if case .cycleInterface(let order) = $0 { order } else { nil } }
    }

    var wouldHeals: [HealOrder] {
        effects.compactMap { if case .wouldHeal(let order) = $0 { order } else { nil } }
    }

    var lastRecord: DecisionRecord? {
        effects.last { if case .decisionChanged = $0 { true } else { false } }.flatMap {
            if case .decisionChanged(let record) = $0 { record } else { nil }
        }
    }

    var lastGossip: (content: ViewContent, to: [MemberIndex], relay: [MemberIndex])? {
        for effect in effects.reversed() {
            if case .gossip(let content, let to, let relay) = effect { return (content, to, relay) }
        }
        return nil
    }
}
