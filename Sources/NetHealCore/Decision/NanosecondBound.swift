/// "Is this many nanoseconds shorter than `duration`?" decided on `Int64`: exactly
/// `Duration.nanoseconds(ns) < duration` for every `ns`, without building a 128-bit `Duration` per
/// comparison (the per-peer loops compare one bound with every neighbour's age).
struct NanosecondBound {
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
