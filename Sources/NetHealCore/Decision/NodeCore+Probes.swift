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
    /// Order a probe round when one is due (a tenth of the interval early is due) and none is
    /// outstanding within `probeInterval + 2 × probeTimeout`. On `Int64` nanoseconds (`bounds`): the
    /// same instants as `Instant ± Duration`, without `Duration` arithmetic on every tick.
    mutating func scheduleProbe(now: Instant, effects: inout [CoreEffect]) {
        let t = now.nanoseconds
        // `now >= nextProbeAt - probeInterval / 10`
        guard t >= nextProbeAt.nanoseconds &- bounds.probeEarlyNanos else { return }
        // `now - since < probeInterval + probeTimeout * 2`
        if let since = probeOutstandingSince, bounds.probeRetry.isLonger(than: t &- since.nanoseconds) { return }
        effects.append(.runProbeRound)
        probeOutstandingSince = now
        let interval = bounds.probeIntervalNanos
        nextProbeAt = Instant(nanoseconds: nextProbeAt.nanoseconds &+ interval)
        if nextProbeAt <= now { nextProbeAt = Instant(nanoseconds: t &+ interval) }
    }
}
