import ArgumentParser
import NetHealBench
import NetHealSimulator

#if canImport(Glibc)
import Glibc
#endif

/// `netheal-cluster bench`: prints the headline performance figures (docs/performance.md).
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure wire/crypto throughput, the decision step and gossip bandwidth.",
        discussion: """
            Every figure is the median of repeated runs (7 by default, at least 5), printed next to its anchor measured in the same run (raw libsodium on the same bytes) or a documented reference (memberlist's defaults), and their ratio. Build in release mode for meaningful figures: swift run -c release netheal-cluster bench. Takes about 2 minutes on 2 cores (7 runs); --quick is a smoke run of a few seconds with noisy figures.
            """
    )

    /// A fast smoke run: 5 short runs per figure, 5 s of simulated gossip.
    @Flag(name: .long, help: "Smoke run: 5 short runs per figure (noisy figures, same table).")
    public var quick = false

    /// Runs per figure (the median is reported).
    @Option(name: .long, help: ArgumentHelp("Runs per figure, at least 5 (default 7; 5 with --quick).", valueName: "n"))
    public var runs: Int?

    /// Only these sections.
    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp(
            "Only these sections: wire, core, gossip, sim (default: these four); lab (root, minutes: agents next to serf in namespaces).",
            valueName: "section"))
    public var only: [String] = []

    /// Sections this command runs itself (the rest are NetHealBench's).
    static let ownSections: Set<String> = ["sim", "lab"]

    public init() {}

    public func validate() throws {
        if let runs, runs < 5 { throw ValidationError("--runs must be at least 5 (a median of fewer runs is not reported)") }
        for section in only where !BenchSettings.allSections.contains(section) && !Self.ownSections.contains(section) {
            throw ValidationError("unknown section `\(section)` for --only; use wire, core, gossip, sim or lab")
        }
    }

    public func run() throws {
        var settings = quick ? BenchSettings.quick : BenchSettings()
        if let runs { settings.runs = runs }
        let chosen = only.isEmpty ? BenchSettings.allSections.union(["sim"]) : Set(only)
        settings.sections = chosen.subtracting(Self.ownSections)
        print("netheal-cluster bench\(quick ? " --quick (smoke run: figures are noisy)" : "")")
        print("machine: \(Self.cpuModel()), \(Self.onlineCPUs()) CPU(s); build: \(Self.buildConfiguration)")
        if !settings.sections.isEmpty {
            let report = try NetHealBench.run(settings) { line in Self.progress(line) }
            print(report.table)
        }
        if chosen.contains("sim") { try SimulatorBenchSection.run(quick: quick, runs: quick ? 1 : min(settings.runs, 3)) }
        if chosen.contains("lab") { try LabBenchSection.run(quick: quick) }
    }

    /// A progress line on standard error.
    static func progress(_ line: String) {
        let text = "bench: \(line)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    #if DEBUG
    static let buildConfiguration = "debug (figures of the Swift path are not meaningful: use -c release)"
    #else
    static let buildConfiguration = "release"
    #endif

    /// The CPU model from /proc/cpuinfo ("unknown CPU" elsewhere).
    static func cpuModel() -> String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
                return text[text.index(after: colon)...].trimmingPrefix(" ").split(separator: "\n").first.map(String.init) ?? "unknown CPU"
            }
        }
        return "unknown CPU"
    }

    static func onlineCPUs() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
