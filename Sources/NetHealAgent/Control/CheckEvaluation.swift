import NetHealCore

/// `netheal-cluster check`: the Nagios/Icinga plugin verdict on one agent's status (pure).
///
/// - CRITICAL: healing is in `backoff` (heals did not help), the heal budget of the window is spent,
///   or this node has no fresh view from any peer (isolated, or gossip broken).
/// - WARNING: healing is switched off (off switch), the node is `suspect`, `hold`, `waiting` or `healing`, a heal
///   happened within the budget window, some peers are silent, or a peer runs another cluster file.
/// - OK otherwise (including `starting` and `dry-run`, and a heal deferred by an open maintenance
///   window, which is reported as a note).
/// - UNKNOWN: the status could not be read (`unknown(reason:)`).
public enum CheckEvaluation {
    /// Plugin exit codes.
    public enum Code: Int32, Sendable, CaseIterable {
        case ok = 0
        case warning = 1
        case critical = 2
        case unknown = 3

        public var label: String {
            switch self {
            case .ok: "OK"
            case .warning: "WARNING"
            case .critical: "CRITICAL"
            case .unknown: "UNKNOWN"
            }
        }
    }

    /// The verdict: exit code and the one status line (with perfdata after `|`).
    public struct Verdict: Hashable, Sendable {
        public var code: Code
        public var line: String
    }

    /// The verdict for `status`.
    public static func evaluate(_ status: AgentStatus) -> Verdict {
        let d = status.decision
        let peers = status.peerCount
        let fresh = status.freshPeers
        var critical: [String] = []
        var warning: [String] = []
        switch d.state {
        case .backoff: critical.append("heals did not help (backoff)")
        case .suspect, .hold, .waiting, .healing: warning.append("\(d.state) (\(d.rule.id))")
        case .disabled where status.healingEnabled && status.maintenance != nil: break  // a note, below
        case .disabled: warning.append("would heal but healing is disabled")
        case .starting, .healthy, .dryRun: break
        }
        if !status.healingEnabled && d.state != .disabled { warning.append("healing disabled (off switch)") }
        if d.pacing.healsInWindow >= d.pacing.maxHealsPerWindow {
            critical.append("heal budget spent (\(d.pacing.healsInWindow)/\(d.pacing.maxHealsPerWindow))")
        } else if d.pacing.healsInWindow > 0 {
            warning.append("\(d.pacing.healsInWindow) heal(s) in window")
        }
        if peers > 0 && fresh == 0 && d.state != .starting {
            critical.append("no fresh view from any peer")
        } else if fresh < peers && d.state != .starting {
            warning.append("\(peers - fresh) peer(s) silent")
        }
        let diverging = status.members.filter { $0.configMatches == false }.map(\.name)
        if !diverging.isEmpty { warning.append("cluster file differs at " + diverging.joined(separator: ",")) }

        let code: Code = !critical.isEmpty ? .critical : (!warning.isEmpty ? .warning : .ok)
        var notes: [String] = []
        if let window = status.maintenance {
            notes.append(
                "maintenance window \(window.untilText(now: status.generatedAtMillis))"
                    + (d.state == .disabled ? " (would heal; deferred)" : ""))
        }
        let problems = (critical + warning + notes).joined(separator: ", ")
        var text = "NETHEAL \(code.label) - \(status.node) \(d.state) (\(d.rule.id)): \(fresh)/\(peers) peers fresh"
        if !problems.isEmpty { text += "; " + problems }
        text += "; fleet: " + status.diagnosis
        text = text.withoutPipes
        return Verdict(code: code, line: text + " | " + perfdata(status))
    }

    /// The verdict when no status could be read.
    public static func unknown(reason: String) -> Verdict {
        Verdict(code: .unknown, line: "NETHEAL UNKNOWN - " + reason.withoutPipes)
    }

    /// `fresh_peers=4;;;0;4 heals_window=0;;3;0;3 views_rejected=0c views_accepted=120c`.
    public static func perfdata(_ status: AgentStatus) -> String {
        let d = status.decision
        let budget = d.pacing.maxHealsPerWindow
        return [
            "fresh_peers=\(status.freshPeers);;;0;\(status.peerCount)",
            "heals_window=\(d.pacing.healsInWindow);;\(budget);0;\(budget)",
            "views_rejected=\(status.counters.rejectedTotal)c",
            "views_accepted=\(status.counters.viewsAccepted)c",
            "transport_drops=\(status.counters.transportDrops)c",
        ].joined(separator: " ")
    }
}

extension String {
    /// The text with every `|` (the perfdata separator) replaced by `/`.
    var withoutPipes: String { split(separator: "|", omittingEmptySubsequences: false).joined(separator: "/") }
}
