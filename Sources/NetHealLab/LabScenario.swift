import Foundation

/// A lab scenario: a script of faults against a fresh fleet, with assertions.
public struct LabScenario: Sendable {
    /// Command-line name, e.g. `wedge`.
    public var name: String
    /// One line: what happens and what must hold.
    public var summary: String
    /// Whether it runs real agents (else only the lab and the naive loop).
    public var needsAgents: Bool
    /// Nodes it needs (default fleet size 5).
    public var nodes: Int = 5
    /// Whether it needs the attacker host on the LAN (`LabOptions.attacker`). Default false.
    public var attacker: Bool = false
    /// The script.
    public var body: @Sendable (LabScenarioRun, LabScenarioSettings) throws -> Void
}

/// Knobs of a scenario run.
public struct LabScenarioSettings: Sendable {
    /// The `netheal-cluster` executable the agents run. Default: this process's executable.
    public var binary: LabAgentBinary = .current()
    /// Length of the outage / partition / loss phases in seconds. Default 60 (the issue's figure).
    public var faultSeconds: Double = 60
    /// Also run the naive seed loop in the same lab (upstream-outage scenario). Default true.
    public var compareNaive: Bool = true
    /// The naive loop's interval in seconds. Default 30 (the seed script's).
    public var naiveInterval: Int = 30
    /// Length of each flood phase of `hostile-flood` in seconds. Default 60 (the issue's figure).
    public var floodSeconds: Double = 60
    /// Target rate of each flood phase, datagrams/s. Default 50,000 (the issue's figure).
    public var floodRate: Double = 50_000

    public init() {}
}

/// What a scenario run produced.
public struct LabScenarioReport: Sendable {
    /// Scenario name.
    public var name: String
    /// Every assertion.
    public var checks: [LabCheck]
    /// The error that ended it early, if any.
    public var error: String?
    /// The timeline, rendered.
    public var timeline: String
    /// The figures, rendered.
    public var figures: String
    /// The figures themselves (for tests and docs).
    public var measured: LabFigures
    /// Where logs and configuration of the run are.
    public var runDirectory: String

    /// Passed: no error and every check held (and there was at least one).
    public var passed: Bool { error == nil && !checks.isEmpty && checks.allSatisfy(\.passed) }

    /// The full printed report.
    public func rendered(includeTimeline: Bool = true) -> String {
        var text = "== scenario \(name): \(passed ? "PASSED" : "FAILED")\n"
        if includeTimeline { text += "-- timeline\n" + timeline }
        text += "-- figures\n" + figures
        text +=
            "-- checks\n" + checks.map { "  [\($0.passed ? "PASS" : "FAIL")] \($0.text)" }.joined(separator: "\n")
            + "\n"
        if let error { text += "-- ended early: \(error)\n" }
        text += "-- logs and configuration: \(runDirectory)\n"
        return text
    }
}

extension LabScenario {
    /// Builds a fresh fleet, runs the scenario, tears the fleet down (always), returns the report.
    public func run(options: LabOptions = LabOptions(), settings: LabScenarioSettings = LabScenarioSettings()) throws
        -> LabScenarioReport
    {
        var options = options
        options.nodes = max(options.nodes, nodes)
        options.attacker = options.attacker || attacker
        let fleet = try LabFleet(options: options)
        fleet.timeline.record(.lab, nil, "scenario \(name): \(summary)")
        try fleet.up()
        defer { fleet.down() }
        let run = LabScenarioRun(fleet: fleet, name: name)
        var failure: String?
        do { try body(run, settings) } catch { failure = "\(error)" }
        run.finish()
        if failure != nil {
            for dead in fleet.deadAgents() { fleet.timeline.record(.lab, dead.node, "agent exited: \(dead.how)") }
        }
        let report = LabScenarioReport(
            name: name, checks: run.checks, error: failure, timeline: fleet.timeline.rendered(),
            figures: run.figures.rendered(), measured: run.figures, runDirectory: fleet.files.runDirectory)
        try? report.rendered().write(toFile: fleet.files.timelineFile, atomically: true, encoding: .utf8)
        return report
    }
}
