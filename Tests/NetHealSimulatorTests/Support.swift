import NetHealCore
@testable import NetHealSimulator

/// The repository root, found from this file's path (Tests/NetHealSimulatorTests/Support.swift).
let repoRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Parses scenario text written inline in a test.
func scenario(_ text: String, file: String = "test.scenario") throws -> Scenario {
    try Scenario.parse(text, file: file)
}

/// Seconds → ns.
func s(_ seconds: Double) -> Int64 { Int64(seconds * 1e9) }
