/// A point on the node's monotonic clock, in nanoseconds since an arbitrary origin.
///
/// The core never reads a clock: the shell (agent or simulator) passes `now` in with every input.
/// Monotonic instants are local to one process; they never travel on the wire.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The origin of the clock.
    public static let zero = Instant(nanoseconds: 0)

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        Instant(nanoseconds: lhs.nanoseconds &+ rhs.nanosecondsClamped)
    }

    public static func - (lhs: Instant, rhs: Duration) -> Instant {
        Instant(nanoseconds: lhs.nanoseconds &- rhs.nanosecondsClamped)
    }

    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public var description: String {
        let ms = nanoseconds / 1_000_000
        return "t+\(ms / 1000).\(String(format3: Int(abs(ms % 1000))))s"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to the `Int64` range.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }

    /// The duration in whole milliseconds, clamped to the `Int64` range.
    public var millisecondsClamped: Int64 { nanosecondsClamped / 1_000_000 }
}

extension String {
    /// Zero-padded three-digit rendering, used for millisecond fractions.
    init(format3 value: Int) {
        let s = String(value)
        self = String(repeating: "0", count: Swift.max(0, 3 - s.count)) + s
    }
}
