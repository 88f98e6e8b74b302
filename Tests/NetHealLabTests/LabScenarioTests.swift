import Foundation
import Testing

@testable import NetHealLab

/// The `netheal-cluster` executable the scenarios run: `NETHEAL_CLUSTER_BINARY`, else the one
/// `swift build` put next to the test bundle.
let labBinary: LabAgentBinary = {
    if let path = ProcessInfo.processInfo.environment["NETHEAL_CLUSTER_BINARY"] { return LabAgentBinary(path: path) }
    let candidates = [".build/debug/netheal-cluster", ".build/release/netheal-cluster"].map {
        FileManager.default.currentDirectoryPath + "/" + $0
    }
    return LabAgentBinary(path: candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0])
}()

/// Whether the scenarios can run: root, and an executable with the agent (`run`, `status`).
let agentAvailable: Bool = isRoot && (try? labBinary.requireAgent()) != nil
let agentMissing =
    "needs root and a built netheal-cluster with `run` and `status` (swift build; or NETHEAL_CLUSTER_BINARY)"

/// Runs a scenario with the issue's settings and prints its report (timeline, figures, checks).
@discardableResult
func runScenario(_ scenario: LabScenario, faultSeconds: Double = 60, compareNaive: Bool = true) throws
    -> LabScenarioReport
{
    var options = LabOptions()
    options.echoTimeline = false
    var settings = LabScenarioSettings()
    settings.binary = labBinary
    settings.faultSeconds = faultSeconds
    settings.compareNaive = compareNaive
    let report = try scenario.run(options: options, settings: settings)
    print(report.rendered())
    for check in report.checks where !check.passed { Issue.record("\(scenario.name): \(check.text)") }
    if let error = report.error { Issue.record("\(scenario.name) ended early: \(error)") }
    #expect(report.passed)
    return report
}

extension LabNamespaceTests {
    @Test(
        "scenario wedge: n1 alone cycles, connectivity restored",
        .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioWedge() throws {
        let report = try runScenario(LabScenarios.wedge)
        #expect(report.measured.values("fault→cycle").count == 1)
        #expect(report.measured.values("fault→restored").count == 1)
        #expect(report.measured.meanGossipBytesPerSecond.map { $0 > 0 } == true, "gossip was measured")
        #expect(report.measured.peakRSSMB.map { $0 > 0 } == true, "agent RSS was measured")
    }

    @Test(
        "scenario upstream-outage: 60 s, zero cycles; the naive loop cycles every node",
        .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioUpstreamOutage() throws {
        try runScenario(LabScenarios.upstreamOutage)
    }

    @Test("scenario partition 3|2: zero cycles", .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioPartition() throws {
        try runScenario(LabScenarios.partition)
    }

    @Test(
        "scenario wedge-during-outage: only the wedged node cycles",
        .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioWedgeDuringOutage() throws {
        try runScenario(LabScenarios.wedgeDuringOutage)
    }

    @Test("scenario loss 30 %: zero cycles", .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioLoss() throws {
        try runScenario(LabScenarios.loss)
    }

    @Test(
        "scenario kill-mid-heal: no interface left down", .enabled(if: agentAvailable, Comment(rawValue: agentMissing)))
    func scenarioKillMidHeal() throws {
        try runScenario(LabScenarios.killMidHeal)
    }
}
