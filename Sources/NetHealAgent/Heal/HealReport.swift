import Foundation

/// Why a command of a heal ran.
public enum HealStepPurpose: String, Codable, Sendable {
    /// A command of the configured action (`ifdown`, `ifup`, …).
    case action
    /// Re-adding what the link cycle removed (`ip-link`), or the fallback restore after an action
    /// that left the interface down or incomplete.
    case restore
    /// The tool's own bring-up while completing an unfinished heal after a restart.
    case recovery
}

/// One command a heal ran and how it went.
public struct HealStep: Codable, Equatable, Sendable {
    /// Why it ran.
    public var purpose: HealStepPurpose
    /// Its argv, exit status, bounded output and duration.
    public var result: CommandResult

    public init(purpose: HealStepPurpose, result: CommandResult) {
        self.purpose = purpose
        self.result = result
    }
}

/// The check after a heal: is the interface up, with its addresses and default route?
public struct HealVerification: Codable, Equatable, Sendable {
    /// The link was administratively and operationally up.
    public var linkUp: Bool
    /// What was missing compared with the heal's target snapshot (empty when verified).
    public var missing: SnapshotDiff?
    /// The snapshot taken for the check, when one could be taken.
    public var snapshot: InterfaceSnapshot?
    /// Why no snapshot could be taken, if so.
    public var error: String?

    public init(linkUp: Bool, missing: SnapshotDiff?, snapshot: InterfaceSnapshot?, error: String?) {
        self.linkUp = linkUp
        self.missing = missing
        self.snapshot = snapshot
        self.error = error
    }

    /// Up, with every expected address, route and default route.
    public var verified: Bool { error == nil && linkUp && (missing?.isEmpty ?? false) }

    /// One line for logs and `status`.
    public var summary: String {
        if let error { return "not verified: \(error)" }
        if verified { return "link up, addresses and routes present" }
        var parts: [String] = []
        if !linkUp { parts.append("link \(snapshot.map { "\($0.operState)\($0.adminUp ? "" : " (admin down)")" } ?? "down")") }
        if let missing {
            if !missing.missingAddresses.isEmpty { parts.append("missing addresses \(missing.missingAddresses)") }
            if !missing.missingDefaultRouteFamilies.isEmpty {
                parts.append("no default route (\(missing.missingDefaultRouteFamilies.joined(separator: ",")))")
            }
            if !missing.missingRoutes.isEmpty { parts.append("missing routes \(missing.missingRoutes)") }
        }
        return "not verified: " + parts.joined(separator: "; ")
    }
}

/// How a heal ended.
public enum HealOutcome: String, Codable, Sendable {
    /// The action ran and the interface verified up with its addresses and default route.
    case healed
    /// The action left the interface down or incomplete; the fallback restore fixed it.
    case healedAfterRestore = "healed-after-restore"
    /// The interface did not verify after the action (and the fallback, if enabled).
    case failed
    /// An unfinished heal found on start was completed and the interface verified.
    case recovered
    /// An unfinished heal found on start could not bring the interface back.
    case recoveryFailed = "recovery-failed"

    /// The interface ended up verified.
    public var succeeded: Bool { self == .healed || self == .healedAfterRestore || self == .recovered }
}

/// Everything about one heal (or one recovery of an unfinished heal): recorded in the journal,
/// logged, and shown by `status`.
public struct HealReport: Codable, Equatable, Sendable {
    /// The heal's id, `<incarnation>-<n>`; a recovery report carries the id of the heal it completed.
    public var id: String
    /// The interface.
    public var interface: String
    /// The configured action.
    public var action: HealActionKind
    /// Why the heal ran (from the decision core), or why the recovery ran.
    public var reason: String
    /// The interface before the action (nil when it could not be read, or for a recovery).
    public var before: InterfaceSnapshot?
    /// What restore and verification aimed for: the pre-heal snapshot merged with the last
    /// known-good baseline.
    public var target: InterfaceSnapshot
    /// Every command run, in order.
    public var steps: [HealStep]
    /// The final check.
    public var verification: HealVerification
    /// The result.
    public var outcome: HealOutcome
    /// Wall-clock start and end, milliseconds since the Unix epoch.
    public var startedAtMillis: Int64
    /// See `startedAtMillis`.
    public var finishedAtMillis: Int64

    /// One line for logs and `status`: id, interface, action, outcome, verification, steps.
    public var summary: String {
        let failedSteps = steps.filter { !$0.result.succeeded }.count
        let seconds = Double(finishedAtMillis - startedAtMillis) / 1000
        return "heal \(id) \(interface) \(action.rawValue): \(outcome.rawValue) (\(verification.summary)); "
            + "\(steps.count) commands, \(failedSteps) failed, \(String(format: "%.1f", seconds)) s; reason: \(reason)"
    }

    public init(
        id: String, interface: String, action: HealActionKind, reason: String, before: InterfaceSnapshot?,
        target: InterfaceSnapshot, steps: [HealStep], verification: HealVerification, outcome: HealOutcome,
        startedAtMillis: Int64, finishedAtMillis: Int64
    ) {
        self.id = id
        self.interface = interface
        self.action = action
        self.reason = reason
        self.before = before
        self.target = target
        self.steps = steps
        self.verification = verification
        self.outcome = outcome
        self.startedAtMillis = startedAtMillis
        self.finishedAtMillis = finishedAtMillis
    }
}
