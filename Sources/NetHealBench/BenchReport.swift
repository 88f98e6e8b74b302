/// One line of the benchmark table: a figure, the anchor it is compared with, and their ratio.
public struct BenchRow: Hashable, Sendable {
    /// The measured thing, e.g. "sign (encode + Ed25519)".
    public var figure: String
    /// The fleet or view size, e.g. "1,000 members".
    public var size: String
    /// Median over `runs` repeated runs.
    public var median: Double
    /// The unit of `median` and `anchorMedian`, e.g. "ops/s".
    public var unit: String
    /// What the figure is compared with, e.g. "raw crypto_sign_detached".
    public var anchor: String
    /// The anchor's median, measured in the same run (or a fixed reference figure: see `anchorMeasured`).
    public var anchorMedian: Double
    /// False when the anchor is a documented constant (e.g. memberlist's defaults), not a measurement.
    public var anchorMeasured: Bool
    /// The figure relative to its anchor: the median of the per-run ratios when figure and anchor were
    /// measured in pairs (robust against load that changes between runs), else `median / anchorMedian`.
    public var ratio: Double
    /// How many runs each median is taken over (≥ 5).
    public var runs: Int
    /// A remark (e.g. "does not fit one datagram").
    public var note: String

    public init(
        figure: String, size: String, median: Double, unit: String, anchor: String, anchorMedian: Double,
        anchorMeasured: Bool = true, ratio: Double? = nil, runs: Int, note: String = ""
    ) {
        self.figure = figure
        self.size = size
        self.median = median
        self.unit = unit
        self.anchor = anchor
        self.anchorMedian = anchorMedian
        self.anchorMeasured = anchorMeasured
        self.ratio = ratio ?? (anchorMedian == 0 ? .nan : median / anchorMedian)
        self.runs = runs
        self.note = note
    }
}

/// Everything one `netheal-cluster bench` run measured, in table order.
public struct BenchReport: Sendable {
    /// The rows, grouped by section.
    public var sections: [(title: String, rows: [BenchRow])]

    public init(sections: [(title: String, rows: [BenchRow])] = []) { self.sections = sections }

    /// All rows of every section.
    public var rows: [BenchRow] { sections.flatMap(\.rows) }

    /// The table as plain text (markdown), one section after the other.
    public var table: String {
        var out = ""
        for section in sections {
            out += "\n### \(section.title)\n\n"
            out += "| figure | size | median | anchor | anchor median | ratio | runs | note |\n"
            out += "|---|---:|---:|---|---:|---:|---:|---|\n"
            for r in section.rows {
                let anchorText = r.anchorMeasured ? r.anchor : r.anchor + " (reference)"
                out += "| \(r.figure) | \(r.size) | \(Self.format(r.median)) \(r.unit) | \(anchorText) | "
                    + "\(Self.format(r.anchorMedian)) \(r.unit) | \(Self.formatRatio(r.ratio)) | \(r.runs) | \(r.note) |\n"
            }
        }
        return out
    }

    /// A number with thousands separators and at most 3 significant decimals.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if value >= 100 { return group(Int(value.rounded())) }
        if value >= 1 { return String(Double(Int((value * 100).rounded())) / 100) }
        return String(Double(Int((value * 10_000).rounded())) / 10_000)
    }

    static func formatRatio(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if value >= 100 { return group(Int(value.rounded())) + "×" }
        return String(Double(Int((value * 1000).rounded())) / 1000) + "×"
    }

    static func group(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}

/// How long and how often each figure is measured.
public struct BenchSettings: Sendable {
    /// Repeated runs per figure; the median is reported (≥ 5). Default 7.
    public var runs: Int = 7
    /// Wall time of one run of a throughput figure. Default 300 ms.
    public var runDuration: Duration = .milliseconds(300)
    /// Simulated time of the gossip-bandwidth figure. Default 60 s.
    public var simulatedGossipTime: Duration = .seconds(60)
    /// Member counts of the wire figures (a view must fit one datagram). Default 10, 100, 1,000.
    public var wireSizes = [10, 100, 1000]
    /// Member counts of the decision-step and gossip figures. Default 10, 100, 1,000, 10,000.
    public var coreSizes = [10, 100, 1000, 10_000]

    /// The sections to run (default all): "wire", "core", "gossip".
    public var sections: Set<String> = BenchSettings.allSections

    /// Every section name, in table order.
    public static let allSections: Set<String> = ["wire", "core", "gossip"]

    public init() {}

    /// `--quick`: the same table, 5 short runs each and a 5 s simulated gossip window (a smoke run; its
    /// figures are noisy).
    public static var quick: BenchSettings {
        var s = BenchSettings()
        s.runs = 5
        s.runDuration = .milliseconds(10)
        s.simulatedGossipTime = .seconds(5)
        return s
    }
}
