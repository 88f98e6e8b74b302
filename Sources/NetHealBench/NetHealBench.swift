import CSodium
import NetHealCore
import NetHealSodium

/// The headline performance figures of netheal-cluster (docs/performance.md), measured in-process:
/// wire and crypto throughput next to raw libsodium, the decision step, and gossip bandwidth.
/// `netheal-cluster bench` prints `run(_:progress:).table`.
public enum NetHealBench {
    /// Runs the figures of `settings.sections`; `progress` gets one line per section as it starts.
    public static func run(_ settings: BenchSettings = BenchSettings(), progress: (String) -> Void = { _ in }) throws -> BenchReport {
        let unknown = settings.sections.subtracting(BenchSettings.allSections)
        guard unknown.isEmpty else { throw BenchError("unknown bench section(s) \(unknown.sorted()); known: wire, core, gossip") }
        guard settings.runs >= 5 else { throw BenchError("at least 5 runs per figure are needed for a median (got \(settings.runs))") }
        try Sodium.ensureInitialized()
        var report = BenchReport()
        // The anchor of the decision-core figures: one raw verify of a genuine 10-member view.
        let anchorBench = try WireBench(members: settings.wireSizes.first ?? 10)

        if settings.sections.contains("wire") {
            progress("wire and crypto: \(settings.wireSizes.map(membersLabel).joined(separator: ", "))")
            var rows: [BenchRow] = []
            for n in settings.wireSizes { rows += try WireBench(members: n).rows(settings) }
            report.sections.append(("Wire and crypto (one view; Swift path vs raw libsodium on the same bytes)", rows))
        }
        if settings.sections.contains("core") {
            progress("decision step: \(settings.coreSizes.map(membersLabel).joined(separator: ", "))")
            let verify = { blackHole(anchorBench.verifyOnce()) }
            var rows: [BenchRow] = []
            for n in settings.coreSizes { rows += CoreBench(n: n).rows(settings, verifyAnchor: verify) }
            report.sections.append((
                "Decision core (NodeCore.handle; anchor: one raw Ed25519 verify, the cost already paid per received view)", rows))
        }
        if settings.sections.contains("gossip") {
            progress("gossip bandwidth over \(settings.simulatedGossipTime) simulated: \(settings.coreSizes.map(membersLabel).joined(separator: ", "))")
            var rows: [BenchRow] = []
            for n in settings.coreSizes { rows += try GossipBench(n: n).rows(settings) }
            report.sections.append(("Gossip bandwidth per node at default settings (gossip 1 s, fanout 8, 2 relayed views)", rows))
        }
        return report
    }
}
