import NetHealCore
import Testing

@testable import NetHealSimulator

/// The prefetch hints (`Simulation+Prefetch.swift`): they name the events that come next, and turning
/// prefetching off or on changes no result.
@Suite struct PrefetchTests {
    @Test func hintRoundTrips() {
        let d = PrefetchHint.delivery(to: 9_876, cell: 1_234_567)
        #expect(d & PrefetchHint.nodeFlag != 0 && d & PrefetchHint.cellFlag != 0)
        #expect(PrefetchHint.nodeOf(d) == 9_876 && PrefetchHint.cellOf(d) == 1_234_567)
        let plain = PrefetchHint.delivery(to: 5, cell: nil)
        #expect(plain == PrefetchHint.node(5) && plain & PrefetchHint.cellFlag == 0 && PrefetchHint.nodeOf(plain) == 5)
    }

    @Test func upcomingNamesTheCalendarsNextPops() {
        // Deliveries a few ms ahead (the calendar), each with its own hint and object word; after every
        // pop, what `upcoming()` names must be what the next three pops return.
        var rng = SplitMix64(seed: 41)
        var q = EventQueue<Int>()
        for id in 1...3_000 {
            q.push(at: 1_000_000 + Int64(rng.next() % 20_000_000), id, hint: UInt64(id) | 1 << 63, object: UInt(id) * 8)
        }
        var seen: [[(hint: UInt64, object: UInt)]] = []
        var popped: [Int] = []
        while let e = q.pop() {
            popped.append(e.payload)
            let (third, second, first) = q.upcoming()
            seen.append([first, second, third].map { u in (u.hint, u.hint == 0 ? 0 : q.object(u.slot)) })
        }
        #expect(popped.count == 3_000)
        var named = 0
        for (j, ahead) in seen.enumerated() {
            for (k, u) in ahead.enumerated() where u.hint != 0 {
                let id = popped[j + k + 1]
                #expect(u.hint == UInt64(id) | 1 << 63 && u.object == UInt(id) * 8)
                named += 1
            }
        }
        // Only the ends of calendar buckets go unnamed.
        #expect(named > 3 * 3_000 * 9 / 10)
    }

    @Test func prefetchingChangesNoTrace() throws {
        // Neighbourhood mode (cells, relays), a wedge healed, a rack outage: the same run with and
        // without the look-ahead.
        let text = """
            scenario prefetch-off-on
            seed 77
            fleet 120
            duration 90s
            signer fast
            domain rackA n1..n40
            at 20s wedge n7
            at 50s upstream-outage rackA for 20s
            expect n7 heals exactly 1 within 20s of wedge
            """
        var results: [SimulationResult] = []
        for on in [false, true] {
            let sim = try Simulation<NodeCore>(scenario: try scenario(text), threads: 1)
            sim.prefetching = on
            results.append(try sim.run())
        }
        #expect(results[0].traceHash == results[1].traceHash)
        #expect(results[0].events == results[1].events && results[0].events > 100_000)
        #expect(results[0].heals.count == 1 && results[1].heals.count == 1)
    }
}
