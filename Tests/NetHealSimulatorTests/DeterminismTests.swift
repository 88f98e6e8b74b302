import NetHealCore
import Testing

@testable import NetHealSimulator

@Suite struct DeterminismTests {
    @Test func sameSeedGivesIdenticalTraceTwice() throws {
        let text = """
            fleet 6
            duration 2m
            network latency 1ms..8ms loss 10% dup 2% reorder 10%
            at 20s wedge n2
            at 40s partition random for 30s
            at 50s upstream-outage {n4,n5} for 30s
            at 60s crash n6 for 4s
            """
        let a = try SimulationRunner.run(try scenario(text))
        let b = try SimulationRunner.run(try scenario(text))
        #expect(a.traceHash == b.traceHash)
        #expect(a.events == b.events)
        #expect(a.heals.map(\.at) == b.heals.map(\.at))
        #expect(a.datagramsDelivered == b.datagramsDelivered)
        let c = try SimulationRunner.run(try scenario("seed 2\n" + text))
        #expect(c.traceHash != a.traceHash, "a different seed must change the run")
    }

    @Test func swarmSeedRegeneratesTheSameScenarioAndRun() throws {
        #expect(Swarm.scenarioText(seed: 9) == Swarm.scenarioText(seed: 9))
        let a = try SimulationRunner.run(try Swarm.scenario(seed: 9, fast: true))
        let b = try SimulationRunner.run(try Swarm.scenario(seed: 9, fast: true))
        #expect(a.traceHash == b.traceHash)
    }

    @Test func everySwarmScenarioParses() throws {
        for seed in UInt64(0)..<300 {
            _ = try Swarm.scenario(seed: seed)
        }
    }

    @Test func eventQueueBreaksTiesByInsertionOrder() {
        var q = EventQueue<Int>()
        for k in 0..<100 { q.push(at: Int64(k % 3), k) }
        var out: [(Int64, Int)] = []
        while let e = q.pop() { out.append((e.time, e.payload)) }
        let expected = (0..<100).sorted { ($0 % 3, $0) < ($1 % 3, $1) }
        #expect(out.map(\.1) == expected)
    }
}
