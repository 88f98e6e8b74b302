import ArgumentParser
import Testing

@testable import NetHealCLI

/// `simulate --bench --bench-repeat N`: parsed, and refused (usage, exit 64) outside 1...100 before any
/// case runs.
struct SimulateBenchOptionTests {
    @Test func benchRepeatIsParsedAndDefaultsToOne() throws {
        let five = try #require(
            try NetHealClusterCommand.parseAsRoot(["simulate", "--bench", "--bench-sizes", "40", "--bench-repeat", "5"]) as? SimulateCommand)
        #expect(five.bench && five.benchRepeat == 5 && five.benchSizes == "40")
        let plain = try #require(try NetHealClusterCommand.parseAsRoot(["simulate", "--bench"]) as? SimulateCommand)
        #expect(plain.benchRepeat == 1)
        #expect(throws: (any Error).self) { try NetHealClusterCommand.parseAsRoot(["simulate", "--bench", "--bench-repeat", "many"]) }
    }

    @Test func benchRepeatOutOfRangeIsAUsageError() throws {
        for bad in ["0", "101", "-3"] {
            let command = try #require(
                try NetHealClusterCommand.parseAsRoot(["simulate", "--bench", "--bench-sizes", "40", "--bench-repeat=\(bad)"]) as? SimulateCommand)
            #expect(command.execute() == 64, "--bench-repeat \(bad)")
        }
    }
}
