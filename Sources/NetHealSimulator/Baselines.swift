import NetHealCore

/// Shared plumbing of the baseline policies: probe scheduling and heal bookkeeping.
struct BaselineClock {
    var nextProbeAt: Instant?
    var probeOutstanding = false
    var healing = false
    var lastHealAt: Instant?

    mutating func probeIfDue(now: Instant, every: Duration, effects: inout [CoreEffect]) {
        guard !probeOutstanding, !healing else { return }
        if let next = nextProbeAt, now < next { return }
        nextProbeAt = now + every
        probeOutstanding = true
        effects.append(.runProbeRound)
    }

    mutating func heal(_ rule: DecisionRule, _ reason: String, now: Instant, effects: inout [CoreEffect]) {
        healing = true
        lastHealAt = now
        effects.append(.cycleInterface(HealOrder(rule: rule, reason: reason, step: 0, healsInWindow: 0)))
    }
}

/// The seed script (docs: shared/seeds/netheal-ifup-watchdog.md): every 30 s ping one target; on
/// failure `ifdown; ifup`. No peers, no pacing.
public struct NaivePolicy: SimPolicy {
    public static var policyName: String { "naive" }
    var clock = BaselineClock()
    var state = DecisionState.starting

    public init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {}

    public var pacingState: PacingState? { nil }
    public var announcedState: DecisionState { state }

    public mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        var effects: [CoreEffect] = []
        switch input {
        case .probeRound(let r):
            clock.probeOutstanding = false
            // The script pings one target (the first); `|| (ifdown; ifup)`.
            if r.targets.first?.outcome == .answered {
                state = .healthy
            } else {
                state = .healing
                clock.heal(.isolationHeal, "naive: ping failed", now: now, effects: &effects)
            }
        case .healFinished:
            clock.healing = false
            state = .healthy
            clock.nextProbeAt = now + .seconds(30)
        default:
            clock.probeIfDue(now: now, every: .seconds(30), effects: &effects)
        }
        return effects
    }
}

/// watchcat-like (OpenWrt watchcat, mode restart_iface): ping every 5 s; when no ping has answered for
/// the period (60 s), restart the interface; the period starts again after a restart.
public struct WatchcatPolicy: SimPolicy {
    public static var policyName: String { "watchcat" }
    static let period = Duration.seconds(60)
    var clock = BaselineClock()
    var lastAnswer: Instant?
    var state = DecisionState.starting

    public init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {}

    public var pacingState: PacingState? { nil }
    public var announcedState: DecisionState { state }

    public mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        var effects: [CoreEffect] = []
        if lastAnswer == nil { lastAnswer = now }
        switch input {
        case .probeRound(let r):
            clock.probeOutstanding = false
            if r.anyAnswered {
                lastAnswer = now
                state = .healthy
            } else if let last = lastAnswer, now - last >= Self.period {
                state = .healing
                clock.heal(.isolationHeal, "watchcat: no answer for \(Self.period)", now: now, effects: &effects)
            } else {
                state = .suspect
            }
        case .healFinished:
            clock.healing = false
            lastAnswer = now
            state = .healthy
        default:
            clock.probeIfDue(now: now, every: .seconds(5), effects: &effects)
        }
        return effects
    }
}

/// medik8s self-node-remediation-like: when own probes fail (K rounds), ask the peers: any peer that
/// cannot reach me → heal; more than half of the peers blind upstream too → hold; no peer heard for
/// 30 s → heal. Every node sends its view to every peer each gossip interval (no fanout, no relays).
public struct SNRPolicy: SimPolicy {
    public static var policyName: String { "snr" }
    let roster: ClusterRoster
    let me: MemberIndex
    let settings: HealSettings
    var clock = BaselineClock()
    var failedInARow = 0
    var lastDirect: [Instant?]
    var peerUpstream: [UpstreamHealth]
    var peerReachOfMe: [Reach]
    var peerViewAt: [Instant?]
    var started: Instant?
    var lastHeard: Instant?
    var nextGossip: Instant?
    var state = DecisionState.starting

    public init(roster: ClusterRoster, me: MemberIndex, settings: HealSettings, pacing: PacingState?, seed: UInt64, graph: NeighborGraph) {
        self.roster = roster
        self.me = me
        self.settings = settings
        lastDirect = Array(repeating: nil, count: roster.count)
        peerUpstream = Array(repeating: .unknown, count: roster.count)
        peerReachOfMe = Array(repeating: .unknown, count: roster.count)
        peerViewAt = Array(repeating: nil, count: roster.count)
        // Like a rebooted node, it keeps no heal history; its own interval check uses lastHealAt only.
        clock.lastHealAt = pacing?.lastHealAt
    }

    public var pacingState: PacingState? { nil }
    public var announcedState: DecisionState { state }

    public mutating func handle(_ input: CoreInput, now: Instant) -> [CoreEffect] {
        var effects: [CoreEffect] = []
        if started == nil { started = now }
        switch input {
        case .probeRound(let r):
            clock.probeOutstanding = false
            failedInARow = r.anyAnswered ? 0 : failedInARow + 1
            decide(now: now, effects: &effects)
        case .viewReceived(let v, let direct):
            let o = v.origin.int
            if direct {
                lastDirect[o] = now
                lastHeard = now
            }
            peerUpstream[o] = v.upstream
            peerReachOfMe[o] = v.reach[me.int]
            peerViewAt[o] = now
        case .healFinished:
            clock.healing = false
            failedInARow = 0
        case .tick:
            clock.probeIfDue(now: now, every: settings.probeInterval, effects: &effects)
            decide(now: now, effects: &effects)
            if nextGossip == nil || now >= nextGossip! {
                nextGossip = now + settings.gossipInterval
                let peers = (0..<roster.count).filter { $0 != me.int }.map { MemberIndex($0) }
                if !peers.isEmpty {
                    let content = ViewContent(
                        upstream: failedInARow >= settings.failureRounds ? .failing : .up, decision: state,
                        reach: reach(now: now))
                    effects.append(.gossip(content: content, to: peers, relay: []))
                }
            }
        default:
            break
        }
        return effects
    }

    func reach(now: Instant) -> [Reach] {
        (0..<roster.count).map { i in
            if i == me.int { return .isSelf }
            guard let heard = lastDirect[i] else { return .unknown }
            return now - heard < settings.peerSilenceTimeout ? .reachable : .unreachable
        }
    }

    mutating func decide(now: Instant, effects: inout [CoreEffect]) {
        guard !clock.healing else { state = .healing; return }
        guard failedInARow >= settings.failureRounds else {
            state = failedInARow == 0 ? .healthy : .suspect
            return
        }
        if let last = clock.lastHealAt, now - last < settings.minHealInterval {
            state = .hold
            return
        }
        var fresh = 0
        var accusers = 0
        var blind = 0
        for i in 0..<roster.count where i != me.int {
            guard let at = peerViewAt[i], now - at < settings.viewFreshness else { continue }
            fresh += 1
            if peerReachOfMe[i] == .unreachable { accusers += 1 }
            if peerUpstream[i] == .failing { blind += 1 }
        }
        if accusers > 0 {
            state = .healing
            clock.heal(.accuserQuorumHeal, "snr: \(accusers) peer(s) cannot reach me", now: now, effects: &effects)
        } else if fresh > 0, blind * 2 > fresh {
            state = .hold
        } else if now - (lastHeard ?? started ?? now) >= .seconds(30) {
            state = .healing
            clock.heal(.isolationHeal, "snr: isolated 30 s", now: now, effects: &effects)
        } else {
            state = .hold
        }
    }
}
