import NetHealCore

/// One measured simulator run, for `netheal-cluster bench` (which reports medians of several).
public struct SimulatorSpeed: Sendable {
    /// Wall-clock seconds of the run.
    public var wallSeconds: Double
    /// Simulated seconds divided by wall seconds.
    public var simulatedPerWall: Double
    /// Simulated node-seconds per wall second.
    public var nodeSecondsPerSecond: Double
    /// Events the simulation processed.
    public var events: Int
    /// Safety and liveness violations the checker found (must be 0).
    public var violations: Int
    /// Engine threads the run used (1 serial, 2 window-parallel).
    public var threads: Int
    /// True when a second thread checked signatures ahead (real signer, `Simulation.verifierThread`).
    public var verifierThread = false

    /// Runs the `simulate --bench` fleet of `size` nodes (three racks, a wedge, a rack outage, an
    /// isolated node, a fleet-wide outage) for `duration` with seed `seed`, every invariant checked.
    /// `threads`: engine threads (nil chooses, `Simulation.engineThreads`).
    public static func measure(size: Int, fast: Bool, duration: Duration, seed: UInt64, threads: Int? = nil) throws -> SimulatorSpeed {
        let text = Bench.scenarioText(size: size, duration: duration, seed: seed, fast: fast)
        let scenario = try Scenario.parse(text, file: "bench")
        let clock = ContinuousClock()
        let start = clock.now
        let used = Simulation<NodeCore>.engineThreads(scenario: scenario, requested: threads)
        // With the real signer the engine is serial; `threads` then decides the verifying thread.
        let result = try SimulationRunner.run(scenario, threads: fast ? used : threads)
        let elapsed = clock.now - start
        let wall = max(1e-9, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let simulated = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return SimulatorSpeed(
            wallSeconds: wall, simulatedPerWall: simulated / wall, nodeSecondsPerSecond: Double(size) * simulated / wall,
            events: result.events, violations: result.violations.count, threads: used, verifierThread: result.verifierThread)
    }
}
