import NetHealCore

/// Decides when to send `WATCHDOG=1`: only when the event loop AND the decision loop have both
/// reported progress since the last ping, and at most every half watchdog timeout.
///
/// Pure: time comes in as `Instant`s. A stuck loop stops its beats, the gate withholds pings,
/// and systemd kills and restarts the agent after `WatchdogSec=` — never a blind timer.
public struct WatchdogGate: Sendable {
    /// A loop that must show progress for the watchdog to be fed.
    public enum Source: Int, CaseIterable, Sendable, CustomStringConvertible {
        /// The NIO event loop (a task scheduled on it ran).
        case eventLoop
        /// The decision loop (it finished an iteration: probes in, views out, decision made).
        case decisionLoop

        public var description: String { self == .eventLoop ? "event loop" : "decision loop" }
    }

    /// What `tick` decided.
    public enum Verdict: Equatable, Sendable {
        /// Send `WATCHDOG=1` now.
        case ping
        /// Not yet half a timeout since the last ping.
        case notDue
        /// Due, but these loops have not reported progress since the last ping.
        case withheld(missing: [Source])
    }

    /// The watchdog timeout (`WATCHDOG_USEC`); pings are due every half of it.
    public let timeout: Duration
    /// Half the timeout.
    public var pingInterval: Duration { timeout / 2 }
    /// When the last ping was sent (starts at the gate's creation).
    public private(set) var lastPing: Instant
    private var beaten: [Bool] = Array(repeating: false, count: Source.allCases.count)

    public init(timeout: Duration, now: Instant) {
        precondition(timeout > .zero, "watchdog timeout must be positive")
        self.timeout = timeout
        self.lastPing = now
    }

    /// `source` made progress.
    public mutating func beat(_ source: Source) {
        beaten[source.rawValue] = true
    }

    /// The loops that have not beaten since the last ping, in `Source` order.
    public var missing: [Source] { Source.allCases.filter { !beaten[$0.rawValue] } }

    /// Call often (every `pingInterval / 4` is plenty). Returns `.ping` when a ping is due and
    /// every loop has beaten since the last one; then the beats are cleared.
    public mutating func tick(now: Instant) -> Verdict {
        guard now - lastPing >= pingInterval else { return .notDue }
        let missing = self.missing
        guard missing.isEmpty else { return .withheld(missing: missing) }
        lastPing = now
        beaten = Array(repeating: false, count: Source.allCases.count)
        return .ping
    }
}
