import Testing

@testable import NetHealLab

@Suite("lab bench medians and ratios")
struct LabBenchSummaryTests {
    static func result(_ agent: String, rss: Double, cpu: Double, gossip: Double) -> LabBenchResult {
        LabBenchResult(
            agent: agent, nodes: 5, seconds: 40, rssMeanMB: rss, rssPeakMB: rss + 0.5, cpuMeanPercent: cpu,
            cpuMaxPercent: cpu + 0.05, gossipBytesPerNodePerSecond: gossip)
    }

    @Test("the median is the middle value, or the mean of the two middle ones")
    func median() {
        #expect(LabBenchSummary.median([3, 1, 2]) == 2)
        #expect(LabBenchSummary.median([4, 1, 3, 2]) == 2.5)
        #expect(LabBenchSummary.median([]) == 0)
    }

    @Test("medians per figure, ratios netheal/serf, and the verdict")
    func mediansAndRatios() {
        let summary = LabBenchSummary(
            nodes: 5,
            netheal: [
                Self.result("netheal", rss: 14, cpu: 0.30, gossip: 1200),
                Self.result("netheal", rss: 13, cpu: 0.10, gossip: 1300),
                Self.result("netheal", rss: 30, cpu: 0.20, gossip: 1250),
            ],
            serf: [
                Self.result("serf", rss: 14, cpu: 0.25, gossip: 280),
                Self.result("serf", rss: 15, cpu: 0.20, gossip: 290),
                Self.result("serf", rss: 14.5, cpu: 0.15, gossip: 300),
            ])
        let medians = LabBenchSummary.medians(summary.netheal)
        for (value, expected) in zip(medians, [14, 14.5, 0.20, 0.25, 1250]) { #expect(abs(value - expected) < 1e-9) }
        #expect(medians.count == 5)
        let ratios = summary.ratios.map { $0 ?? -1 }
        #expect(abs(ratios[0] - 14 / 14.5) < 1e-9)
        #expect(abs(ratios[2] - 1) < 1e-9)
        #expect(summary.targetMet == true)
        #expect(summary.rows.count == 3)
        #expect(summary.rows[2].hasPrefix("| netheal/serf | 5 | 0.97× |"))

        var worse = summary
        worse.netheal[0].cpuMeanPercent = 0.5
        worse.netheal[1].cpuMeanPercent = 0.5
        #expect(worse.targetMet == false)
    }

    @Test("without serf there is no ratio and no verdict")
    func withoutSerf() {
        let summary = LabBenchSummary(
            nodes: 20, netheal: [Self.result("netheal", rss: 14, cpu: 0.3, gossip: 3000)], serf: [])
        #expect(summary.ratios.isEmpty)
        #expect(summary.targetMet == nil)
        #expect(summary.rows.count == 1)
    }
}
