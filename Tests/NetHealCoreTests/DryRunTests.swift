import NetHealCore
import Testing

/// Rule 6: dry run decides and records "would heal", never cycles, and is paced like the real thing.
@Suite struct DryRunTests {
    @Test func dryRunRecordsWouldHealAndNeverCycles() {
        var settings = HealSettings()
        settings.dryRun = true
        var solo = Solo(size: 1, settings: settings)
        solo.probesOK = false
        solo.advance(.seconds(300))
        #expect(solo.cycles.isEmpty)
        let times = solo.healTimes.map { Double($0.nanoseconds) / 1e9 }
        // Same pacing as real failed heals: 4 s, then settle 10 s + backoff 60 s, then + 10 + 120 s.
        #expect(times.count == 3)
        #expect(times.first == 4)
        #expect(solo.wouldHeals.first?.rule == .isolationHeal)
        #expect(solo.core.pacing.history.allSatisfy { $0.dryRun })
        #expect(solo.rules.contains(.dryRun))
        // While a would-heal settles the node announces dry-run healing (peers' storm guard counts it).
        var probe = Solo(size: 1, settings: settings)
        probe.probesOK = false
        probe.advance(.seconds(6))
        #expect(probe.core.state == .dryRun)
    }
}
