/// Limits of the gossip transport. Every queue and table is bounded.
public struct GossipTransportSettings: Hashable, Sendable {
    /// A token-bucket rate: `perSecond` datagrams refilled every second, at most `burst` stored.
    public struct RateLimit: Hashable, Sendable {
        /// Sustained datagrams per second.
        public var perSecond: Double
        /// Datagrams that may arrive at once after a quiet period.
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            precondition(perSecond > 0 && burst >= 1, "rate limit needs perSecond > 0 and burst >= 1")
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// The largest datagram accepted or sent, in bytes. Larger inbound datagrams are dropped and
    /// counted as oversize before anything decodes them. Default: 1,400 (fits a 1,500-byte MTU
    /// with IPv6 and UDP headers, so views are never fragmented).
    public var maxDatagramBytes: Int = 1_400
    /// Datagrams waiting for the decision loop. When full, NEW datagrams are dropped and counted
    /// (the queued ones are older but already admitted). Default: 1,024.
    public var queueCapacity: Int = 1_024
    /// Input rate per source IP address (ports ignored). Default: 200/s, burst 400 — far above what
    /// an honest peer sends (a view per round per path, plus relays) and cheap to verify.
    public var perSourceLimit = RateLimit(perSecond: 200, burst: 400)
    /// Input rate over all sources together. Default: 2,000/s, burst 4,000 (about a tenth of one
    /// core's Ed25519 verification rate).
    public var globalLimit = RateLimit(perSecond: 2_000, burst: 4_000)
    /// Source addresses with their own bucket. Beyond this, idle buckets are evicted; if none is
    /// idle, unknown sources share one overflow bucket with the per-source limit. Default: 4,096.
    public var maxTrackedSources: Int = 4_096

    public init() {}

    /// Checks the settings once; the error names the field and the fix.
    public func validate() throws {
        func fail(_ message: String) -> GossipTransportError { .invalidSettings(message) }
        guard (64...65_507).contains(maxDatagramBytes) else {
            throw fail("maxDatagramBytes \(maxDatagramBytes): use 64...65507 (1400 avoids fragmentation)")
        }
        guard queueCapacity >= 1 else { throw fail("queueCapacity \(queueCapacity): use at least 1") }
        guard maxTrackedSources >= 1 else { throw fail("maxTrackedSources \(maxTrackedSources): use at least 1") }
    }
}

/// Errors of the gossip transport.
public enum GossipTransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operator's fix for a failed bind, from the system's reason.
    static func bindFix(_ reason: String) -> String {
        if reason.contains("in use") {
            return "another process holds this UDP port (`ss -ulpn` shows which): stop it, or give this member "
                + "another port in its cluster-file addresses (on every node)"
        }
        if reason.contains("assign requested address") {
            return "this address is not configured on this host: fix this member's addresses in the cluster file"
        }
        return "check this member's addresses in the cluster file and the agent's privileges"
    }

    case invalidSettings(String)
    /// No local gossip addresses were given.
    case noLocalAddresses
    /// A local address could not be bound (address not configured, port in use, …).
    case bindFailed(address: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSettings(let message): return "invalid gossip transport settings: \(message)"
        case .noLocalAddresses: return "no local gossip addresses: configure at least one"
        case .bindFailed(let address, let reason):
            return "cannot bind gossip socket \(address): \(reason) — \(Self.bindFix(reason))"
        }
    }
}
