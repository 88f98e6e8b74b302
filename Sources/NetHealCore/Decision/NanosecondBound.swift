/// "Is this many nanoseconds shorter than `duration`?" decided on `Int64`: exactly
/// `Duration.nanoseconds(ns) < duration` for every `ns`, without building a 128-bit `Duration` per
/// comparison (the per-peer loops compare one bound with every neighbour's age).
struct NanosecondBound: Sendable {
    /// `ns < limit` is the answer (unless `always`).
    private let limit: Int64
    /// The duration exceeds every `Int64` nanosecond count.
    private let always: Bool

    init(_ duration: Duration) {
        if duration > .nanoseconds(Int64.max) {
            limit = .max
            always = true
            return
        }
        always = false
        // The smallest count not shorter than `duration`: its ceiling in nanoseconds.
        var c = duration.nanosecondsClamped
        while c < .max, Duration.nanoseconds(c) < duration { c += 1 }
        while c > .min, !(Duration.nanoseconds(c - 1) < duration) { c -= 1 }
        limit = c
    }

    /// `Duration.nanoseconds(ns) < duration`.
    @inline(__always)
    func isLonger(than ns: Int64) -> Bool { always || ns < limit }
}

/// The bounds a core compares per-peer ages with, derived from its settings and the roster size once
/// (when the settings change) instead of per comparison loop or per relayed view.
struct DerivedBounds: Sendable {
    /// `gossipInterval * 2`: a first-hand view younger than this is relayed.
    var relayWindow: NanosecondBound
    /// `effectiveViewFreshness`: a view younger than this is fresh (tally).
    var viewFreshness: NanosecondBound
    /// `effectiveViewFreshness / 2`: a held view younger than this makes an identical relayed copy redundant.
    var relayRefresh: NanosecondBound
    /// `effectivePeerSilenceTimeout`: a neighbour heard directly within this is reachable.
    var peerSilence: NanosecondBound
    /// `effectiveIsolationWindow`: no direct contact for at least this is isolation.
    var isolation: NanosecondBound
    /// `probeInterval + probeTimeout * 2`: an outstanding probe round younger than this blocks the next.
    var probeRetry: NanosecondBound
    /// `gossipInterval`, `gossipInterval / 10`, `probeInterval` and `probeInterval / 10` as the
    /// nanosecond counts `Instant ± Duration` adds (`nanosecondsClamped`): the schedules of every tick
    /// without 128-bit `Duration` arithmetic.
    var gossipIntervalNanos: Int64
    var gossipEarlyNanos: Int64
    var probeIntervalNanos: Int64
    var probeEarlyNanos: Int64

    init(settings: HealSettings, memberCount: Int) {
        let freshness = settings.effectiveViewFreshness(memberCount: memberCount)
        relayWindow = NanosecondBound(settings.gossipInterval * 2)
        viewFreshness = NanosecondBound(freshness)
        relayRefresh = NanosecondBound(freshness / 2)
        peerSilence = NanosecondBound(settings.effectivePeerSilenceTimeout(memberCount: memberCount))
        isolation = NanosecondBound(settings.effectiveIsolationWindow(memberCount: memberCount))
        probeRetry = NanosecondBound(settings.probeInterval + settings.probeTimeout * 2)
        gossipIntervalNanos = settings.gossipInterval.nanosecondsClamped
        gossipEarlyNanos = (settings.gossipInterval / 10).nanosecondsClamped
        probeIntervalNanos = settings.probeInterval.nanosecondsClamped
        probeEarlyNanos = (settings.probeInterval / 10).nanosecondsClamped
    }
}
