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
}
