import NetHealCore

/// A token bucket on a passed-in clock (pure): `take` succeeds while tokens remain; tokens refill
/// continuously at `limit.perSecond` up to `limit.burst`.
public struct TokenBucket: Sendable, Equatable {
    public let limit: GossipTransportSettings.RateLimit
    public private(set) var tokens: Double
    public private(set) var updated: Instant

    /// A full bucket.
    public init(limit: GossipTransportSettings.RateLimit, now: Instant) {
        self.limit = limit
        self.tokens = limit.burst
        self.updated = now
    }

    /// Takes one token if available.
    public mutating func take(now: Instant) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// True when the bucket would be full at `now` (it then carries no state worth keeping).
    public func isFull(now: Instant) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= limit.burst
    }

    private mutating func refill(now: Instant) {
        guard now > updated else { return }  // time never runs backwards for a bucket
        let seconds = Double((now - updated).nanosecondsClamped) / 1e9
        tokens = min(limit.burst, tokens + seconds * limit.perSecond)
        updated = now
    }
}
