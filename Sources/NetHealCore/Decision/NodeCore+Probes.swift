/// Rule 1, own evidence: K failed rounds in a row make the upstream `failing`; `recoveryRounds` good
/// rounds in a row make it `up` again (hysteresis). The first good round after start makes it `up`.
struct ProbeTracker: Sendable {
    static let historyLimit = 16

    var upstream = UpstreamHealth.unknown
    var failedInARow = 0
    var goodInARow = 0
    var history: [Bool] = []
    var lastRound: [ProbeTargetResult] = []

    mutating func record(_ round: ProbeRoundResult, settings: HealSettings) {
        lastRound = round.targets
        let good = round.anyAnswered
        history.append(good)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
        if good {
            goodInARow += 1
            failedInARow = 0
            switch upstream {
            case .unknown: upstream = .up
            case .failing where goodInARow >= max(1, settings.recoveryRounds): upstream = .up
            case .failing, .up: break
            }
        } else {
            failedInARow += 1
            goodInARow = 0
            if failedInARow >= max(1, settings.failureRounds) { upstream = .failing }
        }
    }

    var summary: ProbeSummary {
        ProbeSummary(
            upstream: upstream, consecutiveFailedRounds: failedInARow, consecutiveGoodRounds: goodInARow,
            history: String(history.map { $0 ? "+" : "-" }), lastRound: lastRound)
    }
}

extension NodeCore {
    mutating func scheduleProbe(now: Instant, effects: inout [CoreEffect]) {
        let interval = settings.probeInterval
        guard now >= nextProbeAt - interval / 10 else { return }
        if let since = probeOutstandingSince, now - since < interval + settings.probeTimeout * 2 { return }
        effects.append(.runProbeRound)
        probeOutstandingSince = now
        nextProbeAt = nextProbeAt + interval
        if nextProbeAt <= now { nextProbeAt = now + interval }
    }
}
