/// Timing helpers: throughput of a closure over a wall-time budget, medians, paired runs.
enum Measure {
    /// Operations per second of `body` (each call = one operation), run for about `duration`.
    static func rate(for duration: Duration, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        var ops = 0
        var batch = 1
        while true {
            for _ in 0..<batch { body() }
            ops += batch
            let now = clock.now
            if now >= deadline { return Double(ops) / seconds(now - start) }
            if batch < 1024 { batch *= 2 }
        }
    }

    /// A figure and its anchor measured alternately (a, b, b, a, a, b, …: the order flips every run so
    /// that neither always goes first) so that drift and other load affect both alike.
    struct Pair {
        /// Median rate of `a` and of `b` over the runs.
        var a: Double
        var b: Double
        /// Median of the per-run ratios a/b.
        var ratio: Double
    }

    static func paired(runs: Int, duration: Duration, _ a: () -> Void, _ b: () -> Void) -> Pair {
        var ra: [Double] = []
        var rb: [Double] = []
        for run in 0..<runs {
            if run % 2 == 0 {
                ra.append(rate(for: duration, a))
                rb.append(rate(for: duration, b))
            } else {
                rb.append(rate(for: duration, b))
                ra.append(rate(for: duration, a))
            }
        }
        return Pair(a: median(ra), b: median(rb), ratio: median(zip(ra, rb).map { $0 / $1 }))
    }

    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "median of no values")
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Keeps a value alive so that the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// "1,000 members".
func membersLabel(_ n: Int) -> String { BenchReport.group(n) + " members" }
