import Foundation

/// The medians of repeated `lab bench` runs for one fleet size, netheal next to serf, with the
/// ratio netheal/serf per figure. Pure: results in, numbers and table rows out.
public struct LabBenchSummary: Sendable {
    /// Fleet size.
    public var nodes: Int
    /// Every run's netheal result, in run order.
    public var netheal: [LabBenchResult]
    /// Every run's serf result, in run order (empty when serf is not installed).
    public var serf: [LabBenchResult]

    public init(nodes: Int, netheal: [LabBenchResult], serf: [LabBenchResult]) {
        self.nodes = nodes
        self.netheal = netheal
        self.serf = serf
    }

    /// The figures of a bench row, in table order.
    public static let figureNames = ["RSS mean MB", "RSS peak MB", "CPU mean %", "CPU max %", "gossip B/s per node"]

    /// A result's figures, in `figureNames` order.
    public static func figures(_ result: LabBenchResult) -> [Double] {
        [
            result.rssMeanMB, result.rssPeakMB, result.cpuMeanPercent, result.cpuMaxPercent,
            result.gossipBytesPerNodePerSecond,
        ]
    }

    /// The median of each figure over `results` (empty when there are none).
    public static func medians(_ results: [LabBenchResult]) -> [Double] {
        guard !results.isEmpty else { return [] }
        return figureNames.indices.map { index in median(results.map { figures($0)[index] }) }
    }

    /// The median: the middle value, or the mean of the two middle values of an even count.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// netheal's median / serf's median per figure (nil per figure when serf's median is 0; empty without serf).
    public var ratios: [Double?] {
        let ours = Self.medians(netheal)
        let theirs = Self.medians(serf)
        guard !ours.isEmpty, !theirs.isEmpty else { return [] }
        return zip(ours, theirs).map { $1 > 0 ? $0 / $1 : nil }
    }

    /// Whether netheal's median RSS (mean over samples) and median CPU (mean over agents) are at most serf's.
    public var targetMet: Bool? {
        let ours = Self.medians(netheal)
        let theirs = Self.medians(serf)
        guard !ours.isEmpty, !theirs.isEmpty else { return nil }
        return ours[0] <= theirs[0] && ours[2] <= theirs[2]
    }

    /// The median rows and the ratio row, as markdown table rows (`| agent | nodes | … |`).
    public var rows: [String] {
        var rows = [Self.row("netheal median", nodes, Self.medians(netheal))]
        if !serf.isEmpty {
            rows.append(Self.row("serf median", nodes, Self.medians(serf)))
            let ratio = ratios.map { $0.map { String(format: "%.2f×", $0) } ?? "—" }
            rows.append("| netheal/serf | \(nodes) | " + ratio.joined(separator: " | ") + " |")
        }
        return rows
    }

    static func row(_ agent: String, _ nodes: Int, _ values: [Double]) -> String {
        guard values.count == figureNames.count else { return "| \(agent) | \(nodes) | (no runs) |" }
        let text = String(
            format: "%.1f | %.1f | %.2f | %.2f | %.0f |", values[0], values[1], values[2], values[3], values[4])
        return "| \(agent) | \(nodes) | " + text
    }
}
