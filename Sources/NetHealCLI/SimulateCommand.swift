import ArgumentParser
import NetHealSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// `netheal-cluster simulate`: deterministic fleet simulation (docs/simulation.md).
///
/// Exit codes: 0 all passed, 1 safety/correctness violation, 2 liveness violation, 3 crash or internal
/// error, 64 usage (bad arguments or a scenario file error).
public struct SimulateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run scenarios or swarm seeds against the real decision core in a simulated fleet.",
        discussion: """
            Examples:
              netheal-cluster simulate simulations/*.scenario
              netheal-cluster simulate --seeds 1..200
              netheal-cluster simulate --seed 17
              netheal-cluster simulate --compare simulations/*.scenario
              netheal-cluster simulate --report timeline.html simulations/*.scenario
              netheal-cluster simulate --bench
            Exit codes: 0 ok, 1 safety violation, 2 liveness violation, 3 crash/internal error, 64 usage.
            """)

    @Argument(help: "Scenario files (.scenario).")
    var files: [String] = []

    @Option(help: "Replay one swarm seed: generate its scenario and run it.")
    var seed: UInt64?

    @Option(help: "Swarm: run every seed of the range A..B (inclusive).")
    var seeds: String?

    @Option(help: "Policy to run: netheal (default), naive, watchcat, snr.")
    var policy: String = "netheal"

    @Flag(help: "Run every scenario under every policy and print a comparison table.")
    var compare = false

    @Option(help: "Write an HTML timeline report (inline SVG) of the runs to this file.")
    var report: String?

    @Flag(help: "Benchmark: simulated node-seconds per wall second and peak RSS for 100/1,000/10,000 nodes.")
    var bench = false

    @Option(help: "With --bench: simulated time of every case (e.g. 1h); default 10m up to 200 nodes, 1h below 5,000, 10m from 5,000.")
    var benchDuration: String?

    @Option(help: "With --bench: fleet sizes, comma-separated (default 100,1000,10000).")
    var benchSizes: String = "100,1000,10000"

    @Option(help: "With --bench: runs of every case; the median run is quoted with the spread (default 1).")
    var benchRepeat: Int = 1

    @Flag(help: "Use the fast stand-in signer instead of libsodium Ed25519 (huge fleets; output says so).")
    var fastSigner = false

    @Option(help: "Threads: 1 or 2, identical results. With --fast-signer, 2 is the window-parallel engine (default for fleets of 5,000+ nodes); with Ed25519, 2 checks signatures ahead on a second thread (default for runs of 30,000+ node-seconds). Either default needs 2+ CPUs with a second core idle.")
    var threads: Int?

    @Flag(help: "Print only failing runs (and the summary).")
    var quiet = false

    public init() {}

    public func run() async throws {
        let code = execute()
        if code != 0 { throw ExitCode(code) }
    }

    func usage(_ message: String) -> Int32 {
        printErr("simulate: \(message)")
        return 64
    }

    func execute() -> Int32 {
        if let threads, threads != 1, threads != 2 { return usage("--threads wants 1 or 2") }
        if bench { return runBench() }
        guard let kind = PolicyKind(rawValue: policy) else {
            return usage("unknown policy `\(policy)`; use netheal, naive, watchcat or snr")
        }
        var scenarios: [Scenario] = []
        var swarmSeeds: [UInt64] = []
        for file in files {
            do {
                let text = try readFile(file)
                var s = try Scenario.parse(text, file: file)
                if fastSigner { s.signer = .fast }
                scenarios.append(s)
            } catch let e as ScenarioError {
                return usage(e.description)
            } catch {
                return usage("\(file): \(error)")
            }
        }
        if let seed { swarmSeeds.append(seed) }
        if let seeds {
            guard let range = parseRange(seeds) else { return usage("--seeds wants A..B with A ≤ B, e.g. 1..200") }
            swarmSeeds += Array(range)
        }
        guard !scenarios.isEmpty || !swarmSeeds.isEmpty else {
            return usage("name scenario files, --seed N, --seeds A..B or --bench (see --help)")
        }
        if compare { return runCompare(scenarios, swarmSeeds) }
        var worst: Int32 = 0
        var results: [SimulationResult] = []
        var failedSeeds: [UInt64] = []
        for s in scenarios {
            let (code, r) = runOne(s, kind, timeline: report != nil)
            worst = merge(worst, code)
            if let r { results.append(r) }
        }
        for seed in swarmSeeds {
            let scenario: Scenario
            do { scenario = try Swarm.scenario(seed: seed, fast: fastSigner) } catch {
                printErr("internal error: swarm seed \(seed) generated an invalid scenario: \(error)")
                worst = merge(worst, 3)
                continue
            }
            let (code, r) = runOne(scenario, kind, timeline: report != nil, swarm: true)
            worst = merge(worst, code)
            if code != 0 {
                failedSeeds.append(seed)
                print("---- seed \(seed) failed; generated scenario:")
                print(Swarm.scenarioText(seed: seed, fast: fastSigner), terminator: "")
                print("---- replay with: netheal-cluster simulate --seed \(seed)\(fastSigner ? " --fast-signer" : "")"
                    + (kind == .netheal ? "" : " --policy \(kind.rawValue)"))
            }
            if let r { results.append(r) }
        }
        if swarmSeeds.count > 1 {
            print("swarm: \(swarmSeeds.count) seed(s), \(failedSeeds.count) failed"
                + (failedSeeds.isEmpty ? "" : ": " + failedSeeds.map(String.init).joined(separator: " ")))
        }
        if let report {
            do {
                try writeFile(report, HTMLReport.render(results))
                print("report written to \(report)")
            } catch {
                printErr("could not write \(report): \(error)")
                worst = merge(worst, 3)
            }
        }
        return worst
    }

    func runOne(_ s: Scenario, _ kind: PolicyKind, timeline: Bool, swarm: Bool = false) -> (Int32, SimulationResult?) {
        let header = ResultText.header(s, policy: kind)
        if !quiet { print(header) }
        do {
            let r = try SimulationRunner.run(s, policy: kind, timeline: timeline, threads: threads)
            if !quiet || !r.passed {
                if quiet { print(header) }
                print(ResultText.body(r))
            }
            return (r.exitCode, r)
        } catch {
            print(header)
            print("CRASH \(s.name): \(error)")
            return (3, nil)
        }
    }

    func runCompare(_ scenarios: [Scenario], _ seeds: [UInt64]) -> Int32 {
        var all = scenarios
        for seed in seeds {
            guard let s = try? Swarm.scenario(seed: seed, fast: fastSigner) else { return 3 }
            all.append(s)
        }
        var rows: [CompareRow] = []
        var results: [SimulationResult] = []
        var worst: Int32 = 0
        for s in all {
            for kind in PolicyKind.allCases {
                do {
                    let r = try SimulationRunner.run(s, policy: kind, timeline: report != nil, threads: threads)
                    rows.append(CompareRow(r))
                    results.append(r)
                    if kind == .netheal { worst = merge(worst, r.exitCode) }
                } catch {
                    print("CRASH \(s.name) under \(kind.rawValue): \(error)")
                    worst = merge(worst, 3)
                }
            }
        }
        print(CompareRow.table(rows))
        if let report {
            do { try writeFile(report, HTMLReport.render(results)); print("report written to \(report)") } catch {
                printErr("could not write \(report): \(error)")
                worst = merge(worst, 3)
            }
        }
        return worst
    }

    func runBench() -> Int32 {
        var duration: Duration?
        if let text = benchDuration {
            guard let d = SimDuration.parse(text), d > .zero else { return usage("--bench-duration wants e.g. 10m or 1h") }
            duration = d
        }
        let sizes = benchSizes.split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 2 }) else { return usage("--bench-sizes wants e.g. 100,1000,10000") }
        guard (1...100).contains(benchRepeat) else { return usage("--bench-repeat wants a count from 1 to 100") }
        do {
            print("bench: \(fastSigner ? "fast stand-in signer for every case" : "libsodium Ed25519 for ≤ 200 nodes (and the stand-in for comparison), the fast stand-in above")")
            for line in try Bench.run(fast: fastSigner, sizes: sizes, duration: duration, threads: threads, repeats: benchRepeat) { print(line) }
            return 0
        } catch {
            print("CRASH bench: \(error)")
            return 3
        }
    }

    /// Exit-code precedence: crash (3) > safety (1) > liveness (2) > ok.
    func merge(_ a: Int32, _ b: Int32) -> Int32 {
        func rank(_ c: Int32) -> Int { [0: 0, 2: 1, 1: 2, 3: 3][c] ?? 3 }
        return rank(b) > rank(a) ? b : a
    }

    func parseRange(_ text: String) -> ClosedRange<UInt64>? {
        guard let r = text.range(of: ".."), let a = UInt64(text[..<r.lowerBound]), let b = UInt64(text[r.upperBound...]),
            a <= b
        else { return nil }
        return a...b
    }
}

func printErr(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

struct FileError: Error, CustomStringConvertible {
    var description: String
}

func readFile(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else { throw FileError(description: "cannot open (\(String(cString: strerror(errno))))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let k = fread(&buffer, 1, buffer.count, f)
        if k <= 0 { break }
        bytes += buffer[0..<k]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func writeFile(_ path: String, _ text: String) throws {
    guard let f = fopen(path, "wb") else { throw FileError(description: "cannot create (\(String(cString: strerror(errno))))") }
    defer { fclose(f) }
    var t = text
    let ok = t.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
    if !ok { throw FileError(description: "short write") }
}
