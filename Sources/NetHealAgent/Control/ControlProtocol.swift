import NetHealCore
import NetHealConfig

/// One request on the control socket: a single JSON line, e.g. `{"command":"status"}`.
public struct ControlRequest: Codable, Hashable, Sendable {
    /// What the client asks for.
    public enum Command: String, Codable, Hashable, Sendable, CaseIterable {
        /// The full `AgentStatus`.
        case status
        /// The off switch: block every heal (persisted; state `disabled`).
        case disable
        /// Undo `disable`.
        case enable
    }

    public var command: Command

    public init(command: Command) { self.command = command }
}

/// The one JSON line the agent answers with.
public struct ControlResponse: Codable, Hashable, Sendable {
    /// False when the request could not be served; `error` says why.
    public var ok: Bool
    public var error: String?
    /// The agent's status (for every command that succeeded).
    public var status: AgentStatus?

    public init(ok: Bool, error: String? = nil, status: AgentStatus? = nil) {
        self.ok = ok
        self.error = error
        self.status = status
    }
}

/// Everything `netheal-cluster status` shows, as this node sees it. Durations are relative to the
/// moment the status was made (`…MillisAgo`), so nothing depends on the agent's monotonic clock origin.
public struct AgentStatus: Codable, Hashable, Sendable {
    /// This member's name and position.
    public var node: String
    public var memberIndex: Int
    public var clusterID: String
    /// This run's incarnation (strictly increases at every start).
    public var incarnation: UInt64
    /// The managed interface.
    public var interface: String
    /// `heal` or `dry-run` (this node's effective mode).
    public var mode: String
    /// False while the operator's off switch is set (`netheal-cluster control disable`).
    public var healingEnabled: Bool
    /// Milliseconds since the agent started.
    public var uptimeMillis: Int64
    /// First 8 bytes of the BLAKE2b digest of this node's cluster file, hex.
    public var configDigest: String
    /// Wall clock when the status was made, milliseconds since the Unix epoch.
    public var generatedAtMillis: Int64

    /// The decision, with its rule, reason, evidence and pacing.
    public var decision: DecisionRecord
    /// The last probe round, per target in configuration order.
    public var probes: [ProbeStatus]
    /// Every member (this node included), in member order.
    public var members: [MemberStatus]
    /// The reachability matrix from the fresh views (rows = origin, columns = member).
    public var matrix: ReachMatrix
    /// Recent heals, newest first (from the heal journal).
    public var heals: [HealStatus]
    /// View and transport counters since start.
    public var counters: CounterStatus
    /// One line about the whole fleet, drawn from the views (`FleetDiagnosis`).
    public var diagnosis: String
    /// The last configuration reload (SIGHUP), if any.
    public var lastReload: ReloadStatus?
    /// Set while a maintenance window of the node file is open (healing suspended); nil outside.
    /// Independent of `healingEnabled`, which is the operator's switch only.
    public var maintenance: MaintenanceStatus? = nil

    /// Peers with a fresh view.
    public var freshPeers: Int { decision.evidence.freshPeers }
    /// Peers in the cluster (members minus this node).
    public var peerCount: Int { max(0, members.count - 1) }
}

/// An open maintenance window (`maintenance_windows` in the node file): healing is suspended.
public struct MaintenanceStatus: Codable, Hashable, Sendable {
    /// When the window ends, milliseconds since the Unix epoch; nil when the windows cover the whole week.
    public var untilMillis: Int64?

    public init(untilMillis: Int64?) { self.untilMillis = untilMillis }

    /// `until 04:00 UTC` (`until sun 04:00 UTC` when the end is a day or more after `now`).
    public func untilText(now: Int64) -> String {
        guard let until = untilMillis else { return "with no end (the windows cover the whole week)" }
        let minute = MaintenanceSchedule.minuteOfWeekUTC(until)
        let hhmm = pad2((minute % 1440) / 60) + ":" + pad2(minute % 60)
        let day = until - now >= 86_400_000 ? MaintenanceWindow.dayNames[minute / 1440] + " " : ""
        return "until \(day)\(hhmm) UTC"
    }

    private func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// One probe target's latest result.
public struct ProbeStatus: Codable, Hashable, Sendable {
    /// The target as configured, with the resolved address (`gateway (icmp 198.18.0.1)`).
    public var target: String
    /// `ok`, `timeout` or `send error ENETUNREACH`.
    public var outcome: String
    /// True when it answered.
    public var ok: Bool
    /// Round-trip time in milliseconds, when it answered.
    public var rttMillis: Double?

    public init(target: String, outcome: String, ok: Bool, rttMillis: Double?) {
        self.target = target
        self.outcome = outcome
        self.ok = ok
        self.rttMillis = rttMillis
    }
}

/// One member as this node sees it.
public struct MemberStatus: Codable, Hashable, Sendable {
    public var name: String
    public var index: Int
    /// This node.
    public var isSelf: Bool
    /// Its configured gossip addresses.
    public var addresses: [String]
    /// How this node reports it in its own view (reachable / unreachable / unknown / self).
    public var reach: Reach
    /// Milliseconds since this node last heard it directly (its own view from one of its addresses).
    public var lastDirectMillisAgo: Int64?
    /// Milliseconds since its newest view arrived (direct or relayed).
    public var viewAgeMillis: Int64?
    /// Its newest view counts as evidence (younger than the view freshness).
    public var fresh: Bool
    /// `incarnation.sequence` of its newest view.
    public var viewVersion: String?
    /// What its newest view says about its upstream and its decision.
    public var upstream: UpstreamHealth?
    public var decision: DecisionState?
    /// What its newest view says about this node.
    public var reachOfMe: Reach?
    /// False when its view carries another cluster-file digest (diverging copies of the cluster file).
    public var configMatches: Bool?
}

/// The reachability matrix: `rows[i]` is member i's fresh view of every member (nil: no fresh view),
/// one character per member so 1,000 members stay about 1 MB: `.` reachable, `X` unreachable,
/// `?` unknown, `-` self.
public struct ReachMatrix: Codable, Hashable, Sendable {
    public var members: [String]
    public var rows: [String?]

    public init(members: [String], rows: [[Reach]?]) {
        self.members = members
        self.rows = rows.map { $0.map { String($0.map(Self.symbol)) } }
    }

    /// What member `row`'s view says about member `column` (nil: no fresh view from `row`).
    public func reach(row: Int, column: Int) -> Reach? {
        guard row < rows.count, let text = rows[row], column < text.count else { return nil }
        return Self.reach(text[text.index(text.startIndex, offsetBy: column)])
    }

    /// The character for a reach.
    public static func symbol(_ reach: Reach) -> Character {
        switch reach {
        case .reachable: "."
        case .unreachable: "X"
        case .unknown: "?"
        case .isSelf: "-"
        }
    }

    /// The reach of a character (unknown for anything else).
    public static func reach(_ symbol: Character) -> Reach {
        switch symbol {
        case ".": .reachable
        case "X": .unreachable
        case "-": .isSelf
        default: .unknown
        }
    }
}

/// One heal from the journal.
public struct HealStatus: Codable, Hashable, Sendable {
    /// `<incarnation>-<n>`.
    public var id: String
    /// Why the heal ran (the decision's reason).
    public var reason: String
    /// The action (`ifupdown`, `ip-link`, …).
    public var action: String
    /// `healed`, `healed-after-restore`, `failed`, `recovered`, `recovery-failed`; nil while running
    /// (or when the agent died during it and has not completed it yet).
    public var outcome: String?
    /// The report's summary line, when finished.
    public var summary: String?
    /// Wall clock, milliseconds since the Unix epoch.
    public var startedAtMillis: Int64
    public var finishedAtMillis: Int64?
}

/// Counters since the agent started.
public struct CounterStatus: Codable, Hashable, Sendable {
    /// Views accepted (senders' own views plus relayed ones).
    public var viewsAccepted: Int
    /// Of those, relayed views.
    public var viewsRelayedAccepted: Int
    /// Relayed copies skipped unverified (normal): not newer, of a non-neighbour, or redundant.
    public var relayedSkipped: Int
    /// Of those, newer copies that would have changed nothing this node decides with (same upstream,
    /// decision and reach of this node as the held view, which is still young). Default 0.
    public var relayedRedundant: Int = 0
    /// Accepted datagrams whose sender view came from an address not configured for its origin
    /// (counted as relayed, not as direct contact).
    public var indirectSenders: Int
    /// Datagrams rejected, by `WireError.reason`.
    public var rejected: [String: Int]
    /// Datagrams received by the sockets / dropped before decoding (oversize, rate limits, full queue).
    public var datagramsReceived: Int
    public var transportDrops: Int
    /// Datagrams sent (one per path) and failed path writes.
    public var datagramsSent: Int
    public var sendErrors: Int
    /// Heals started by this run, and dry-run would-heals.
    public var healsStarted: Int
    public var wouldHeals: Int

    /// Every rejected datagram, whatever the reason.
    public var rejectedTotal: Int { rejected.values.reduce(0, +) }
}

/// The outcome of the last configuration reload.
public struct ReloadStatus: Codable, Hashable, Sendable {
    /// Wall clock, milliseconds since the Unix epoch.
    public var atMillis: Int64
    /// True when the new configuration is in force; false when it was refused (the old one runs on).
    public var applied: Bool
    /// What changed, or every problem that made it refuse.
    public var messages: [String]
}
