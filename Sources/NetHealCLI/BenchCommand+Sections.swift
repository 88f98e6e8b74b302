import Foundation
import NetHealSimulator

/// `bench` section "sim": simulator speed at 100, 1,000 and 10,000 nodes (issue 4's figures), each the
/// median of repeated runs of the `simulate --bench` fleet, every invariant checked.
enum SimulatorBenchSection {
    struct Case {
        var size: Int
        var fast: Bool
        var duration: Duration
        /// Issue 4's target, as simulated node-seconds per wall second (nil: none for this case).
        var target: Double?
        var targetText: String
    }

    static func cases(quick: Bool) -> [Case] {
        let scale = quick ? 6 : 1
        return [
            Case(size: 100, fast: false, duration: .seconds(120 / scale), target: 10_000, targetText: "≥ 10,000 node-s/s with real Ed25519"),
            Case(size: 100, fast: true, duration: .seconds(120 / scale), target: nil, targetText: "—"),
            Case(size: 1_000, fast: true, duration: .seconds(60 / scale), target: 1_000 * 3_600 / 30,
                 targetText: "1,000 nodes × 1 h in ≤ 30 s = 120,000 node-s/s"),
            Case(size: 10_000, fast: true, duration: .seconds(60 / scale), target: 10_000 * 600 / 120,
                 targetText: "10,000 nodes × 10 min in ≤ 120 s = 50,000 node-s/s"),
        ]
    }

    static func run(quick: Bool, runs: Int) throws {
        print("\n### Simulator speed (simulated node-seconds per wall second; median of \(runs) run(s) per case)\n")
        print("| case | signer | simulated | median node-s/s | simulated/wall | target | ratio to target | violations |")
        print("|---|---|---:|---:|---:|---|---:|---:|")
        for c in cases(quick: quick) {
            BenchCommand.progress("sim: \(c.size) nodes, \(c.fast ? "fast stand-in" : "ed25519"), \(runs) run(s)")
            var speeds: [SimulatorSpeed] = []
            for k in 0..<runs {
                speeds.append(try SimulatorSpeed.measure(size: c.size, fast: c.fast, duration: c.duration, seed: UInt64(1000 + k)))
            }
            let sorted = speeds.sorted { $0.nodeSecondsPerSecond < $1.nodeSecondsPerSecond }
            let median = sorted[sorted.count / 2]
            let ratio = c.target.map { String(format: "%.2f×", median.nodeSecondsPerSecond / $0) } ?? "—"
            let engine = median.threads > 1 || median.verifierThread ? ", engine \(median.engineText)" : ""
            print("| \(c.size) nodes | \(c.fast ? "fast stand-in" : "ed25519 (libsodium)")\(engine) | \(c.duration.components.seconds) s "
                + "| \(Int(median.nodeSecondsPerSecond)) | \(String(format: "%.1f×", median.simulatedPerWall)) "
                + "| \(c.targetText) | \(ratio) | \(speeds.map(\.violations).reduce(0, +)) |")
        }
        if let rss = Bench.peakRSSKiB() { print("\nPeak RSS of this process (all sections): \(rss / 1024) MiB") }
    }
}

/// `bench` section "lab": real agents next to serf in network namespaces — runs `netheal-cluster lab
/// bench` (needs root; builds and tears down its own namespaces).
enum LabBenchSection {
    static func run(quick: Bool) throws {
        print("\n### Agent RSS and CPU in the lab, next to serf (`netheal-cluster lab bench`)\n")
        guard geteuid() == 0 else {
            print("skipped: the lab needs root (network namespaces). Run: sudo netheal-cluster bench --only lab")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["lab", "bench"] + (quick ? ["--sizes", "5", "--seconds", "10"] : [])
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { print("lab bench exited with status \(process.terminationStatus)") }
    }
}
