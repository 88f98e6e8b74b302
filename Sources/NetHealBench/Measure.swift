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

    /// Medians of two figures measured alternately (a, b, a, b, …) so that drift affects both alike.
    static func paired(runs: Int, duration: Duration, _ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
        var ra: [Double] = []
        var rb: [Double] = []
        for _ in 0..<runs {
            ra.append(rate(for: duration, a))
            rb.append(rate(for: duration, b))
        }
        return (median(ra), median(rb))
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
