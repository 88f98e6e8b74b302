import CSodium
import NetHealCore
import NetHealSodium

/// The headline performance figures of netheal-cluster (docs/performance.md), measured in-process:
/// wire and crypto throughput next to raw libsodium, the decision step, and gossip bandwidth.
/// `netheal-cluster bench` prints `run(_:progress:).table`.
public enum NetHealBench {
    /// Runs every figure; `progress` gets one line per section as it starts.
    public static func run(_ settings: BenchSettings = BenchSettings(), progress: (String) -> Void = { _ in }) throws -> BenchReport {
        guard settings.runs >= 5 else { throw BenchError("at least 5 runs per figure are needed for a median (got \(settings.runs))") }
        try Sodium.ensureInitialized()
        var report = BenchReport()

        progress("wire and crypto: \(settings.wireSizes.map(membersLabel).joined(separator: ", "))")
        var wireRows: [BenchRow] = []
        var anchorVerify: WireBench?
        for n in settings.wireSizes {
            let bench = try WireBench(members: n)
            wireRows += try bench.rows(settings)
            if anchorVerify == nil { anchorVerify = bench }
        }
        report.sections.append(("Wire and crypto (one view; Swift path vs raw libsodium on the same bytes)", wireRows))

        progress("decision step: \(settings.coreSizes.map(membersLabel).joined(separator: ", "))")
        let verifier = try anchorVerify ?? WireBench(members: 10)
        let verify = { blackHole(verifier.verifyOnce()) }
        var coreRows: [BenchRow] = []
        for n in settings.coreSizes { coreRows += CoreBench(n: n).rows(settings, verifyAnchor: verify) }
        report.sections.append(("Decision core (NodeCore.handle; anchor: one raw Ed25519 verify, the cost already paid per received view)", coreRows))

        progress("gossip bandwidth over \(settings.simulatedGossipTime) simulated: \(settings.coreSizes.map(membersLabel).joined(separator: ", "))")
        var gossipRows: [BenchRow] = []
        for n in settings.coreSizes { gossipRows += try GossipBench(n: n).rows(settings) }
        report.sections.append(("Gossip bandwidth per node at default settings (gossip 1 s, fanout 8, 2 relayed views)", gossipRows))
        return report
    }
}
