import NetHealCore
import Testing

/// Small seeded swarms: random fleets and fault timelines, checked against the safety properties of
/// docs/design.md (S1, S2, S5). The simulator does this at scale; these keep the core honest in CI.
@Suite struct SwarmTests {
    /// Upstream outages only (random subsets, random times, flapping), LAN intact: no heal, ever (S2).
    @Test(arguments: 1...8)
    func upstreamOutagesAloneNeverHeal(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let size = 2 + Int(rng.next() % 11)
        var fleet = Fleet(size: size, seed: rng.next())
        var t = 10.0
        while t < 400 {
            fleet.run(until: .seconds(t))
            let members = (0..<size).filter { _ in rng.next() % 3 != 0 }
            if rng.next() % 2 == 0 {
                fleet.upstreamOutage(members)
            } else {
                fleet.upstreamRestored(members)
            }
            t += Double(1 + rng.next() % 40)
        }
        fleet.run(until: .seconds(420))
        #expect(fleet.heals.isEmpty, "seed \(seed), \(size) members")
    }

    /// Interface faults of every kind plus outages: never a heal while own probes answer (S1); pacing
    /// per node (S5).
    @Test(arguments: 1...8)
    func mixedFaultsRespectProbesAndPacing(seed: UInt64) {
        var rng = SplitMix64(seed: seed &+ 1000)
        let size = 1 + Int(rng.next() % 10)
        var fleet = Fleet(size: size, seed: rng.next())
        for i in 0..<size { fleet.repairable[i] = rng.next() % 3 != 0 }
        var t = 10.0
        while t < 1500 {
            fleet.run(until: .seconds(t))
            let node = Int(rng.next() % UInt64(size))
            switch rng.next() % 6 {
            case 0: fleet.wedge(node)
            case 1: fleet.cutTransmit(node)
            case 2: fleet.cutReceive(node)
            case 3: fleet.upstreamOutage(0..<size)
            case 4: fleet.upstreamRestored(0..<size)
            default: fleet.restore(node)
            }
            t += Double(5 + rng.next() % 120)
        }
        fleet.run(until: .seconds(1600))
        #expect(fleet.healsWhileProbesOK.isEmpty, "seed \(seed)")
        let settings = HealSettings()
        for i in 0..<size {
            let starts = fleet.heals(of: i).map(\.at)
            for (a, b) in zip(starts, starts.dropFirst()) {
                #expect(b - a >= settings.minHealInterval, "seed \(seed) node \(i)")
            }
            for (k, start) in starts.enumerated() {
                let inWindow = starts[...k].filter { $0 > start - settings.healBudgetWindow }.count
                #expect(inWindow <= settings.maxHealsPerWindow, "seed \(seed) node \(i)")
            }
        }
    }
}
