import NIOCore
import NetHealCore
import Synchronization

/// Feeds systemd's watchdog through a `WatchdogGate`: loops call `beat(_:)`, `run()` checks the
/// gate every `pingInterval / 4` and sends `WATCHDOG=1` only when the gate says so.
///
/// Without a watchdog (`WatchdogSec=` unset, or `NOTIFY_SOCKET` missing) `run()` returns at once
/// and beats are ignored.
public final class SystemdWatchdog: Sendable {
    public let notifier: SystemdNotifier
    private let gate: Mutex<WatchdogGate?>
    private let counters = Mutex(Counters())
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// Pings sent and withheld so far (plain values; metrics come later).
    public struct Counters: Sendable, Equatable {
        public var pingsSent = 0
        public var pingsWithheld = 0
        public var sendErrors = 0
        /// The loops missing at the most recent withheld ping.
        public var lastMissing: [WatchdogGate.Source] = []
    }

    public init(notifier: SystemdNotifier) {
        self.notifier = notifier
        self.origin = clock.now
        if notifier.isEnabled, let timeout = notifier.watchdogTimeout {
            gate = Mutex(WatchdogGate(timeout: timeout, now: .zero))
        } else {
            gate = Mutex(nil)
        }
    }

    /// True when systemd enforces a watchdog on this process.
    public var isActive: Bool { gate.withLock { $0 != nil } }

    /// `source` made progress since its last beat.
    public func beat(_ source: WatchdogGate.Source) {
        gate.withLock { $0?.beat(source) }
    }

    public var currentCounters: Counters { counters.withLock { $0 } }

    /// The loops that have not beaten since the last ping (empty when no watchdog is active).
    public var missingBeats: [WatchdogGate.Source] { gate.withLock { $0?.missing ?? [] } }

    /// Schedules `beat(.eventLoop)` on `eventLoop` every `interval`, so the beat only happens while
    /// that loop runs tasks. Cancel the returned task on shutdown.
    @discardableResult
    public func scheduleEventLoopBeats(on eventLoop: any EventLoop, every interval: TimeAmount) -> RepeatedTask {
        eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in
            self.beat(.eventLoop)
        }
    }

    /// Checks the gate until the task is cancelled; returns at once when no watchdog is active.
    public func run() async {
        guard let pingInterval = gate.withLock({ $0?.pingInterval }) else { return }
        let period = pingInterval / 4
        while !Task.isCancelled {
            tick()
            do { try await Task.sleep(for: period) } catch { return }
        }
    }

    /// One gate check (exposed for tests and for owners with their own timer).
    @discardableResult
    public func tick() -> WatchdogGate.Verdict? {
        let now = Instant(nanoseconds: origin.duration(to: clock.now).nanosecondsClamped)
        guard let verdict = gate.withLock({ $0?.tick(now: now) }) else { return nil }
        switch verdict {
        case .ping:
            let sent = (try? notifier.watchdog()) != nil
            counters.withLock {
                if sent { $0.pingsSent += 1 } else { $0.sendErrors += 1 }
            }
        case .withheld(let missing):
            counters.withLock {
                $0.pingsWithheld += 1
                $0.lastMissing = missing
            }
        case .notDue:
            break
        }
        return verdict
    }
}
