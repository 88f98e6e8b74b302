import NetHealSimulator
import Testing

/// `bench --only sim` measures the `simulate --bench` fleet; speed is not asserted here (noisy CI
/// machine), only that the run is the benchmark fleet, checked and violation-free.
struct SimulatorSpeedTests {
    @Test func aMeasuredRunReportsConsistentFiguresAndNoViolation() throws {
        let speed = try SimulatorSpeed.measure(size: 60, fast: true, duration: .seconds(20), seed: 3)
        #expect(speed.violations == 0)
        #expect(speed.wallSeconds > 0)
        #expect(abs(speed.nodeSecondsPerSecond - 60 * speed.simulatedPerWall) < 1e-6 * speed.nodeSecondsPerSecond)
        #expect(abs(speed.simulatedPerWall * speed.wallSeconds - 20) < 1e-6)
    }

    @Test func repeatedBenchQuotesTheMedianRunAndEveryWall() throws {
        let lines = try Bench.run(fast: true, sizes: [40], duration: .seconds(5), threads: 1, repeats: 3)
        #expect(lines.count == 2)
        let line = try #require(lines.last)
        #expect(line.contains("median of 3 runs; all: "))
        // The quoted wall is the middle of the three listed ones.
        let all = try #require(line.range(of: "all: ")).upperBound
        let walls = line[all...].prefix { $0 != ")" }.split(separator: " ").compactMap { Double($0.dropLast()) }
        #expect(walls.count == 3 && walls == walls.sorted())
        let after = try #require(line.range(of: "(1 thread): ")).upperBound
        let quoted = line[after...].prefix { $0 != "s" }
        #expect(Double(quoted) == walls[1])
        #expect(line.contains("violations 0"))
        // One run: no spread.
        let single = try Bench.run(fast: true, sizes: [40], duration: .seconds(5), threads: 1)
        #expect(!(single.last ?? "").contains("median of"))
    }
}
