import Foundation
import NIOCore
import NetHealCore

/// The two clocks of the agent: monotonic `Instant`s for the core (never steps) and wall-clock
/// milliseconds for the wire (`origin time`) and for persisted state.
public struct AgentClock: Sendable {
    /// The monotonic clock (CLOCK_MONOTONIC via NIO).
    public var now: @Sendable () -> Instant
    /// Milliseconds since the Unix epoch.
    public var wallMillis: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Instant, wallMillis: @escaping @Sendable () -> Int64) {
        self.now = now
        self.wallMillis = wallMillis
    }

    /// The system clocks.
    public static let system = AgentClock(
        now: { Instant(nanoseconds: Int64(clamping: NIODeadline.now().uptimeNanoseconds)) },
        wallMillis: { Int64((Date().timeIntervalSince1970 * 1000).rounded()) })
}
