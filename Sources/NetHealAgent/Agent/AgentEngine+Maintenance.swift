import NetHealConfig
import NetHealCore

extension AgentEngine {
    /// Healing as the core should have it: the operator's switch AND not inside a maintenance window.
    var effectiveHealingEnabled: Bool { operatorHealingEnabled && !inMaintenance }

    /// One week in milliseconds (an end further away means the wall clock stepped back: recompute).
    static var weekMillis: Int64 { 7 * 86_400_000 }

    /// Checks the node file's maintenance windows against the wall clock (cheap: a few comparisons),
    /// logs entering and leaving a window, and returns the `.setHealingEnabled` input that brings the
    /// core in line with `effectiveHealingEnabled` (none when it already is). Never persisted: only the
    /// operator's switch is.
    func refreshMaintenance() -> [CoreInput] {
        let schedule = config.node.maintenanceWindows
        let wall = clock.wallMillis()
        let inside = !schedule.isEmpty && schedule.isInWindow(wallMillis: wall)
        let entered = inside && !inMaintenance
        if inside, entered || schedule != maintenanceComputedFor || maintenanceUntilMillis.map({ wall >= $0 || $0 - wall > Self.weekMillis }) == true {
            maintenanceUntilMillis = schedule.nextChange(after: wall)
            maintenanceComputedFor = schedule
        }
        if inside != inMaintenance {
            inMaintenance = inside
            if inside {
                let until = maintenanceUntilMillis.map { MaintenanceStatus(untilMillis: $0).untilText(now: wall) } ?? "with no end"
                logger.notice("maintenance window: healing suspended \(until)")
            } else {
                maintenanceUntilMillis = nil
                logger.notice(
                    operatorHealingEnabled
                        ? "maintenance window ended: healing resumed"
                        : "maintenance window ended: healing stays disabled by the operator's off switch")
            }
        }
        let wanted = effectiveHealingEnabled
        return core.healingEnabled == wanted ? [] : [.setHealingEnabled(wanted)]
    }
}
