import NetHealCore

/// The decision core's `PacingState` as stored in `pacing.json`, with the (wall, monotonic) pair it
/// was saved at, and the operator's off switch.
///
/// Monotonic instants only mean something within one process; on load the state is rebased onto the
/// new monotonic clock so every instant keeps its wall-clock meaning (see `PacingState`). A wall clock
/// that stepped backwards is clamped: it never shortens a backoff.
public struct PersistedPacing: Codable, Hashable, Sendable {
    public var pacing: PacingState
    /// Wall clock at save, milliseconds since the Unix epoch.
    public var savedWallMillis: Int64
    /// Monotonic clock at save, nanoseconds (meaningful only with `savedWallMillis`).
    public var savedMonotonicNanos: Int64
    /// The off switch (`netheal-cluster control disable`). Default true.
    public var healingEnabled: Bool

    public init(pacing: PacingState, savedWallMillis: Int64, savedMonotonicNanos: Int64, healingEnabled: Bool) {
        self.pacing = pacing
        self.savedWallMillis = savedWallMillis
        self.savedMonotonicNanos = savedMonotonicNanos
        self.healingEnabled = healingEnabled
    }

    /// The pacing state moved onto a monotonic clock that reads `monotonicNow` at wall time `wallNowMillis`.
    public func restored(monotonicNow: Instant, wallNowMillis: Int64) -> PacingState {
        let wallElapsed = Duration.milliseconds(max(0, wallNowMillis - savedWallMillis))
        // An instant t saved on the old clock is (t - savedMono) after the save; on the new clock the
        // save happened at (monotonicNow - wallElapsed). Offset = new save point - old save point.
        let newSavePoint = monotonicNow - wallElapsed
        let offset = newSavePoint - Instant(nanoseconds: savedMonotonicNanos)
        return pacing.rebased(by: offset)
    }

    /// What to use when `pacing.json` was corrupt: no heal before a full backoff has passed, so a
    /// broken state file can never be a way around pacing.
    public static func conservative(settings: HealSettings, now: Instant) -> PacingState {
        var pacing = PacingState()
        pacing.backoffUntil = now + settings.backoffMax
        return pacing
    }
}

extension StateFile where Value == PersistedPacing {
    /// `pacing.json`: heal history, backoff, budget and the off switch.
    public static var pacing: StateFile<PersistedPacing> { StateFile("pacing.json") }
}
