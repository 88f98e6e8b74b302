import NetHealCore

/// The human form of `AgentStatus` (`netheal-cluster status`): a few key lines, the members table,
/// the reachability matrix, the last probe round, recent heals and counters. Pure; ANSI colour only
/// when `color` is set (the command sets it on a terminal).
public enum StatusRendering {
    public static func render(_ s: AgentStatus, color: Bool) -> String {
        let paint = Paint(enabled: color)
        var out: [String] = []
        let d = s.decision
        out.append(
            paint.bold("\(s.node)") + " (\(s.clusterID), config blake2b:\(s.configDigest), "
                + "incarnation \(s.incarnation), interface \(s.interface), mode \(s.mode)"
                + (s.healingEnabled ? "" : ", HEALING DISABLED") + ", up \(duration(s.uptimeMillis)))")
        if let window = s.maintenance {
            out.append("healing   suspended: maintenance window " + window.untilText(now: s.generatedAtMillis))
        }
        out.append("state     " + paint.state(d.state) + "  rule " + d.rule.id)
        out.append("reason    " + d.reason)
        out.append("fleet     " + s.diagnosis)
        out.append(
            "upstream  \(d.evidence.probes.upstream)  rounds \(d.evidence.probes.history)  "
                + "peers fresh \(s.freshPeers)/\(s.peerCount), quorum \(d.evidence.quorum), "
                + "vouchers \(d.evidence.voucherCount), accusers \(d.evidence.accuserCount)")
        let p = d.pacing
        out.append(
            "pacing    heals in window \(p.healsInWindow)/\(p.maxHealsPerWindow), failures in a row "
                + "\(p.consecutiveFailures), backoff \(duration(p.backoffMillis)), step \(p.escalationStep)"
                + (p.healInProgress ? ", heal in progress" : ""))
        out.append("")
        out.append("probes")
        if s.probes.isEmpty { out.append("  (no round yet)") }
        for probe in s.probes {
            let rtt = probe.rttMillis.map { " \(format($0)) ms" } ?? ""
            out.append(
                "  " + pad(probe.target, 40) + " " + (probe.ok ? paint.green(probe.outcome) : paint.red(probe.outcome))
                    + rtt)
        }
        out.append("")
        out.append(
            paint.bold(
                pad("member", 12) + pad("reach", 12) + pad("heard", 9) + pad("view", 9) + pad("upstream", 10)
                    + pad("decision", 10) + pad("sees me", 12) + "config"))
        for m in s.members {
            let name = m.isSelf ? m.name + " *" : m.name
            let config = m.configMatches.map { $0 ? "same" : paint.red("DIFFERS") } ?? "-"
            out.append(
                pad(name, 12) + paint.reach(m.reach, width: 12)
                    + pad(m.isSelf ? "-" : (m.lastDirectMillisAgo.map(ago) ?? "never"), 9)
                    + pad(m.viewAgeMillis.map { ago($0) + (m.fresh ? "" : "!") } ?? "-", 9)
                    + pad(m.upstream.map(\.description) ?? "-", 10) + pad(m.decision.map(\.description) ?? "-", 10)
                    + (m.reachOfMe.map { paint.reach($0, width: 12) } ?? pad("-", 12)) + config)
        }
        out.append("")
        out.append(
            "reachability matrix (row = what that member's fresh view says; . reachable, X unreachable, ? unknown, - self)"
        )
        let names = s.matrix.members
        if names.count > matrixLimit {
            out.append("  (\(names.count) members: too wide for a table — use --json)")
        } else {
            let width = max(3, (names.map(\.count).max() ?? 2) + 1)
            out.append(pad("", width) + names.map { pad($0, width) }.joined())
            for (i, row) in s.matrix.rows.enumerated() {
                let cells = row.map { $0.map { pad(String($0), width) }.joined() } ?? "(no fresh view)"
                out.append(pad(names[i], width) + cells)
            }
        }
        out.append("")
        out.append("recent heals")
        if s.heals.isEmpty { out.append("  none") }
        for heal in s.heals {
            out.append("  \(heal.id) \(heal.action) \(heal.outcome ?? "unfinished"): \(heal.reason)")
        }
        let c = s.counters
        let rejected = c.rejected.keys.sorted().map { "\($0)=\(c.rejected[$0]!)" }.joined(separator: " ")
        out.append("")
        out.append(
            "counters  views accepted \(c.viewsAccepted) (relayed \(c.viewsRelayedAccepted)), rejected \(c.rejectedTotal)"
                + (rejected.isEmpty ? "" : " [\(rejected)]")
                + ", datagrams in \(c.datagramsReceived) out \(c.datagramsSent), "
                + "transport drops \(c.transportDrops), send errors \(c.sendErrors), heals \(c.healsStarted), would-heals \(c.wouldHeals)"
        )
        if let reload = s.lastReload {
            out.append(
                "reload    " + (reload.applied ? "applied: " : paint.red("REFUSED") + " (old configuration runs on): ")
                    + reload.messages.joined(separator: "; "))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Widest matrix the table prints.
    static let matrixLimit = 40

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func ago(_ millis: Int64) -> String { duration(millis) }

    static func duration(_ millis: Int64) -> String {
        if millis < 10_000 { return format(Double(millis) / 1000) + "s" }
        if millis < 120_000 { return "\(millis / 1000)s" }
        if millis < 7_200_000 { return "\(millis / 60_000)m" }
        return "\(millis / 3_600_000)h"
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// ANSI colours, or none.
    struct Paint {
        var enabled: Bool
        func wrap(_ code: String, _ text: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func bold(_ t: String) -> String { wrap("1", t) }
        func green(_ t: String) -> String { wrap("32", t) }
        func yellow(_ t: String) -> String { wrap("33", t) }
        func red(_ t: String) -> String { wrap("31", t) }
        func state(_ s: DecisionState) -> String {
            switch s {
            case .healthy, .starting: green(s.description)
            case .suspect, .hold, .waiting, .dryRun, .disabled: yellow(s.description)
            case .healing, .backoff: red(s.description)
            }
        }
        func reach(_ r: Reach, width: Int) -> String {
            let text = StatusRendering.pad(r.description, width)
            switch r {
            case .reachable: return green(text)
            case .unreachable: return red(text)
            case .unknown, .isSelf: return text
            }
        }
    }
}
