import NIOPosix
import Synchronization

/// Runs probe rounds for the agent: owns the ICMP sequence counter so replies to one round can
/// never be mistaken for replies to another, and runs each round on a thread pool.
public final class ProbeRunner: Sendable {
    public let settings: ProbeSettings
    private let pool: NIOThreadPool
    private let nextSequence = Mutex<UInt16>(0)

    /// `pool` must have a thread free for each concurrent round (one round uses one thread for all
    /// its targets). Default: `NIOThreadPool.singleton`.
    public init(settings: ProbeSettings, pool: NIOThreadPool = .singleton) {
        self.settings = settings
        self.pool = pool
    }

    /// Probes every target at once; one result per target, in target order, after at most
    /// `settings.timeout`. Throws only if the thread pool is shut down.
    public func run(_ targets: [ProbeTarget]) async throws -> [ProbeResult] {
        let first = nextSequence.withLock { sequence in
            defer { sequence &+= UInt16(truncatingIfNeeded: max(targets.count, 1)) }
            return sequence
        }
        return try await ProbeRound(targets: targets, settings: settings, firstSequence: first).run(on: pool)
    }
}
