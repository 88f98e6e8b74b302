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

    init(settings: HealSettings, memberCount: Int) {
        let freshness = settings.effectiveViewFreshness(memberCount: memberCount)
        relayWindow = NanosecondBound(settings.gossipInterval * 2)
        viewFreshness = NanosecondBound(freshness)
        relayRefresh = NanosecondBound(freshness / 2)
        peerSilence = NanosecondBound(settings.effectivePeerSilenceTimeout(memberCount: memberCount))
    }
}
