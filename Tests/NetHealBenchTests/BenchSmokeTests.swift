import NetHealBench
import Testing

/// `bench --quick` runs and produces the full table. Structure only: speed is not asserted (shared CI
/// machines), except where a figure is exact by construction (gossip datagrams at default settings).
@Suite struct BenchSmokeTests {
    @Test func quickRunProducesEveryFigureWithItsAnchor() throws {
        let report = try NetHealBench.run(.quick)
        #expect(report.sections.count == 3)
        let rows = report.rows
        // Wire: 4 figures × 3 sizes; core: 5 × 4; gossip: 2 × 4.
        #expect(report.sections.map(\.rows.count) == [12, 20, 8])
        for row in rows {
            #expect(row.median > 0 && row.median.isFinite, "\(row.figure) \(row.size)")
            #expect(row.anchorMedian > 0 && row.anchorMedian.isFinite, "\(row.figure) \(row.size)")
            #expect(row.runs >= 5)
            #expect(!row.anchor.isEmpty)
        }
        for size in ["10 members", "100 members", "1,000 members"] {
            #expect(rows.contains { $0.figure.hasPrefix("sign view") && $0.size.hasPrefix(size) && $0.anchor == "raw crypto_sign_detached" })
            #expect(rows.contains { $0.figure.hasPrefix("decode + verify") && $0.size.hasPrefix(size) && $0.anchor == "raw crypto_sign_verify_detached" })
        }
        for size in ["10 members", "100 members", "1,000 members", "10,000 members"] {
            #expect(rows.contains { $0.figure.hasPrefix("decision step") && $0.size.hasPrefix(size) })
        }
        // Per-node datagrams stay constant as the fleet grows: fanout 8 per 1 s round, no announcements.
        let datagrams = rows.filter { $0.figure.hasPrefix("gossip datagrams") }
        #expect(datagrams.count == 4)
        for row in datagrams { #expect(abs(row.median - 8) < 0.5, "\(row.size): \(row.median) datagrams/s") }
        // Bytes grow with the view size only.
        let bytes = rows.filter { $0.figure.hasPrefix("gossip bytes") }.map(\.median)
        #expect(bytes == bytes.sorted())
        let table = report.table
        #expect(table.contains("| figure | size | median | anchor | anchor median | ratio | runs | note |"))
        #expect(table.contains("raw crypto_sign_verify_detached"))
    }

    @Test func fewerThanFiveRunsAreRefused() {
        var settings = BenchSettings.quick
        settings.runs = 4
        #expect(throws: BenchError.self) { try NetHealBench.run(settings) }
    }
}
