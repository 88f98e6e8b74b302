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
        do {
            result = try runOnce(scenario, policy: policy, timeline: timeline, threads: threads)
        } catch is VerifyAheadRefuted {
            // An answer taken ahead of its check was wrong: the same run on one thread checks inline.
            result = try runOnce(scenario, policy: policy, timeline: timeline, threads: 1)
        }
        let elapsed = clock.now - start
        result.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }

    static func runOnce(_ scenario: Scenario, policy: PolicyKind, timeline: Bool, threads: Int?) throws -> SimulationResult {
        switch policy {
        case .netheal: try Simulation<NodeCore>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .naive: try Simulation<NaivePolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .watchcat: try Simulation<WatchcatPolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        case .snr: try Simulation<SNRPolicy>(scenario: scenario, recordTimeline: timeline, threads: threads).run()
        }
    }
}
