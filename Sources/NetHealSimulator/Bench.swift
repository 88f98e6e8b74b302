import NetHealCore

#if canImport(Glibc)
    import Glibc
#endif

/// `simulate --bench`: simulated node-seconds per wall second and peak RSS for several fleet sizes.
public enum Bench {
    /// A benchmark fleet of `size` nodes in three racks with a wedge, a rack upstream outage and a
    /// partition, for `duration`.
    public static func scenarioText(size: Int, duration: Duration, seed: UInt64, fast: Bool) -> String {
        let third = max(1, size / 3)
        let secs = duration.nanosecondsClamped / 1_000_000_000
        return """
            scenario bench-\(size)
            seed \(seed)
            fleet \(size)
            duration \(SimDuration.format(duration))
            signer \(fast ? "fast" : "ed25519")
            domain rackA n1..n\(third)
            at \(secs / 10)s wedge n\(min(size, 2))
            at \(secs / 4)s upstream-outage rackA for \(max(1, secs / 10))s
            at \(secs / 2)s partition isolate n\(size) for 30s
            at \(secs * 3 / 4)s upstream-outage all for 60s

            """
    }

    /// Peak resident set size in kB (VmHWM of /proc/self/status), or nil when unavailable.
    public static func peakRSSKiB() -> Int? {
        guard let f = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if s.hasPrefix("VmHWM:") {
                return Int(s.dropFirst(6).filter { $0.isNumber })
            }
        }
        return nil
    }

    /// One measured configuration.
    struct Case {
        var size: Int
        var duration: Duration
        var fast: Bool
    }

    /// Runs the cases and returns printable lines. `duration` overrides every case's simulated time.
    /// `threads`: engine threads of every case (nil chooses per case, `Simulation.engineThreads`).
    /// `repeats`: runs of every case, back to back (default 1); the line quotes the median run by wall
    /// time and the spread of all runs (this machine is noisy: one run is not a figure).
    public static func run(
        fast: Bool, sizes: [Int] = [100, 1000, 10000], duration: Duration? = nil, threads: Int? = nil, repeats: Int = 1
    ) throws -> [String] {
        var cases: [Case] = []
        for size in sizes {
            switch size {
            case ...200:
                let d = duration ?? .seconds(600)
                if !fast { cases.append(Case(size: size, duration: d, fast: false)) }
                cases.append(Case(size: size, duration: d, fast: true))
            default:
                // Neighbourhood mode (docs/scaling.md): one cluster at any size; 1,000 nodes for an hour
                // and 10,000 for 10 minutes by default (issue 4's figures).
                let d = duration ?? (size >= 5000 ? .seconds(600) : .seconds(3600))
                cases.append(Case(size: size, duration: d, fast: fast))
            }
        }
        var lines = ["bench: simulated node-seconds per wall second; peak RSS is the process high-water mark (VmHWM)"]
        for c in cases {
            var runs: [SimulatorSpeed] = []
            for _ in 0..<max(1, repeats) {
                runs.append(try SimulatorSpeed.measure(size: c.size, fast: c.fast, duration: c.duration, seed: 1000, threads: threads))
            }
            runs.sort { $0.wallSeconds < $1.wallSeconds }
            let m = runs[(runs.count - 1) / 2]
            let walls = runs.map(\.wallSeconds)
            let rss = peakRSSKiB().map { "\($0 / 1024) MiB" } ?? "n/a"
            let spread = runs.count == 1 ? "" : " (median of \(runs.count) runs; all: \(walls.map { String(format2: $0) + "s" }.joined(separator: " ")))"
            lines.append("  \(c.size) nodes, \(SimDuration.format(c.duration)) simulated, signer \(c.fast ? "fast stand-in" : "ed25519 (libsodium)"): "
                + "engine \(m.engineText): "
                + "\(String(format2: m.wallSeconds))s wall\(spread), simulated/wall \(String(format2: m.simulatedPerWall))×, "
                + "\(Int(m.nodeSecondsPerSecond)) node-s/s, "
                + "\(Int(Double(m.events) / m.wallSeconds)) events/s, peak RSS \(rss), violations \(runs.map(\.violations).max() ?? 0)")
        }
        return lines
    }
}

extension SimulatorSpeed {
    /// How the run used the machine: "serial (1 thread)", "serial + verifying thread (2 threads)" or
    /// "window-parallel (2 threads)".
    public var engineText: String {
        threads > 1 ? "window-parallel (\(threads) threads)" : verifierThread ? "serial + verifying thread (2 threads)" : "serial (1 thread)"
    }
}
