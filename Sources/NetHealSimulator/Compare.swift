import NetHealCore

/// One line of `simulate --compare`: a scenario under one policy.
public struct CompareRow: Sendable {
    public var scenario: String
    public var policy: String
    public var trueHeals: Int
    public var falseHeals: Int
    /// Time from the fault to the first heal order after it, for broken interfaces (ns).
    public var timeToHeal: [Int64]
    public var gossipBytesPerNodeSecond: Double
    public var violations: Int

    public init(_ r: SimulationResult) {
        scenario = r.scenario
        policy = r.policy
        trueHeals = r.trueHeals
        falseHeals = r.falseHeals
        // The first heal after each breakage (later retries of a hard fault are not a "time to heal").
        var seen: [(Int, Int64)] = []
        var times: [Int64] = []
        for h in r.heals {
            guard let since = h.brokenSince, !seen.contains(where: { $0 == (h.node, since) }) else { continue }
            seen.append((h.node, since))
            times.append(h.at - since)
        }
        timeToHeal = times.sorted()
        gossipBytesPerNodeSecond = r.gossipBytesPerNodeSecond
        violations = r.violations.count
    }

    /// Nearest-rank percentile of the times to heal, as text ("-" when none).
    public func percentile(_ p: Double) -> String {
        guard !timeToHeal.isEmpty else { return "-" }
        let rank = max(1, Int((p * Double(timeToHeal.count)).rounded(.up)))
        return SimDuration.seconds(timeToHeal[min(rank, timeToHeal.count) - 1])
    }

    /// A fixed-width table of rows.
    public static func table(_ rows: [CompareRow]) -> String {
        let head = ["scenario", "policy", "true", "false", "tth p50", "tth p99", "gossip B/node/s", "violations"]
        var cells = [head]
        for r in rows {
            cells.append([r.scenario, r.policy, "\(r.trueHeals)", "\(r.falseHeals)", r.percentile(0.5), r.percentile(0.99),
                String(format2: r.gossipBytesPerNodeSecond), "\(r.violations)"])
        }
        var widths = [Int](repeating: 0, count: head.count)
        for row in cells { for (k, c) in row.enumerated() { widths[k] = max(widths[k], c.count) } }
        return cells.map { row in
            row.enumerated().map { k, c in
                k < 2 ? c + String(repeating: " ", count: widths[k] - c.count) : String(repeating: " ", count: widths[k] - c.count) + c
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
