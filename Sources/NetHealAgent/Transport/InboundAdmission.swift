import NetHealCore

/// Decides, before any decoding, whether an inbound datagram may be queued (pure; time passed in).
///
/// Order: size (oversize is dropped first, cheapest), then the source's bucket (so one noisy
/// source cannot spend the global budget), then the global bucket.
public struct InboundAdmission: Sendable {
    /// Why a datagram was admitted or dropped.
    public enum Verdict: Equatable, Sendable {
        case accept
        case oversize
        case sourceRateLimited
        case globalRateLimited
    }

    /// A source IP address (4 or 16 bytes); ports are ignored.
    public typealias SourceKey = [UInt8]

    public let settings: GossipTransportSettings
    private var sources: [SourceKey: TokenBucket] = [:]
    private var overflow: TokenBucket
    private var global: TokenBucket
    private var lastSweep: Instant?
    /// Datagrams from sources that did not fit in the table and used the shared overflow bucket.
    public private(set) var overflowAdmissions = 0

    public init(settings: GossipTransportSettings, now: Instant) {
        self.settings = settings
        self.overflow = TokenBucket(limit: settings.perSourceLimit, now: now)
        self.global = TokenBucket(limit: settings.globalLimit, now: now)
    }

    /// Source addresses currently holding a bucket.
    public var trackedSources: Int { sources.count }

    /// Admits or drops one datagram of `size` bytes from `source`.
    public mutating func admit(size: Int, source: SourceKey, now: Instant) -> Verdict {
        guard size <= settings.maxDatagramBytes else { return .oversize }
        guard takeSourceToken(source, now: now) else { return .sourceRateLimited }
        guard global.take(now: now) else { return .globalRateLimited }
        return .accept
    }

    private mutating func takeSourceToken(_ source: SourceKey, now: Instant) -> Bool {
        if sources[source] != nil { return sources[source]!.take(now: now) }
        if sources.count >= settings.maxTrackedSources { sweepIdle(now: now) }
        guard sources.count < settings.maxTrackedSources else {
            overflowAdmissions += 1
            return overflow.take(now: now)
        }
        var bucket = TokenBucket(limit: settings.perSourceLimit, now: now)
        let taken = bucket.take(now: now)
        sources[source] = bucket
        return taken
    }

    /// Drops buckets that have refilled completely (a new bucket would be identical). At most once a
    /// second, so a flood of new sources costs O(1) per datagram on average.
    private mutating func sweepIdle(now: Instant) {
        if let lastSweep, now - lastSweep < .seconds(1) { return }
        lastSweep = now
        sources = sources.filter { !$0.value.isFull(now: now) }
    }
}
