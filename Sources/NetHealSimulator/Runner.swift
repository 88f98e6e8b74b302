import NetHealCore

/// The policies `simulate` can run.
public enum PolicyKind: String, CaseIterable, Sendable {
    /// The real decision core (`NodeCore`).
    case netheal
    /// The seed script: probe fails → cycle, every 30 s.
    case naive
    /// watchcat-like: cycle after a period with no answer at all.
    case watchcat
    /// medik8s self-node-remediation-like peer rule.
    case snr
}

/// Runs scenarios with a chosen policy; turns crashes into results.
public enum SimulationRunner {
    /// Runs `scenario` under `policy`. Throws `SimulationCrash` (exit 3) on an internal error. `threads`:
    /// engine threads (1 serial, 2 window-parallel, identical results); nil chooses (`Simulation.engineThreads`).
    public static func run(
        _ scenario: Scenario, policy: PolicyKind = .netheal, timeline: Bool = false, threads: Int? = nil
    ) throws -> SimulationResult {
        let clock = ContinuousClock()
        let start = clock.now
        var result: SimulationResult
        switch policy {
        case .netheal: result = try Simulation<NodeCore>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .naive: result = try Simulation<NaivePolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .watchcat: result = try Simulation<WatchcatPolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .snr: result = try Simulation<SNRPolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        }
        let elapsed = clock.now - start
        result.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }
}
