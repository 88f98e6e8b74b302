import Foundation

/// Resource use of one kind of agent on every node of a fleet, over one measurement window.
public struct LabBenchResult: Sendable {
    /// `netheal` or `serf`.
    public var agent: String
    /// Fleet size.
    public var nodes: Int
    /// Window length in seconds.
    public var seconds: Double
    /// Mean and peak VmRSS over agents and samples, MB.
    public var rssMeanMB: Double
    public var rssPeakMB: Double
    /// Mean and max CPU over agents, % of one core.
    public var cpuMeanPercent: Double
    public var cpuMaxPercent: Double
    /// Gossip bytes sent per node per second (mean).
    public var gossipBytesPerNodePerSecond: Double

    /// One table row.
    public var row: String {
        "| \(agent) | \(nodes) | "
            + String(
                format: "%.1f | %.1f | %.2f | %.2f | %.0f |", rssMeanMB, rssPeakMB, cpuMeanPercent, cpuMaxPercent,
                gossipBytesPerNodePerSecond)
    }
}

/// `lab bench`: netheal agents, then Debian's `serf` agents, in the same namespaces, each measured
/// for the same window (RSS and CPU from /proc, gossip bytes from nft counters).
public enum LabBench {
    /// Measures `processes` for `seconds`: samples every second.
    static func measure(_ processes: [LabProcess], seconds: Double, fleet: LabFleet, counter: String, agent: String)
        throws -> LabBenchResult
    {
        let startBytes = fleet.nodes.map { fleet.counter($0, counter) }
        let startUsage = processes.map { $0.usage() }
        var rssSamples: [Int] = []
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            Thread.sleep(forTimeInterval: 1)
            for process in processes {
                guard let usage = process.usage() else {
                    throw LabError(
                        "\(process.role) on \(process.node.name) exited: \(process.exitDescription)\n\(process.logTail(10))"
                    )
                }
                rssSamples.append(usage.rssKB)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        var cpu: [Double] = []
        for (process, first) in zip(processes, startUsage) {
            guard let first, let last = process.usage() else { continue }
            cpu.append(100 * (last.cpuSeconds - first.cpuSeconds) / last.at.timeIntervalSince(first.at))
        }
        let sent = zip(fleet.nodes, startBytes).map { Double(fleet.counter($0, counter) - $1) }
        return LabBenchResult(
            agent: agent, nodes: fleet.nodes.count, seconds: elapsed,
            rssMeanMB: Double(rssSamples.reduce(0, +)) / Double(max(1, rssSamples.count)) / 1024,
            rssPeakMB: Double(rssSamples.max() ?? 0) / 1024,
            cpuMeanPercent: cpu.reduce(0, +) / Double(max(1, cpu.count)), cpuMaxPercent: cpu.max() ?? 0,
            gossipBytesPerNodePerSecond: sent.reduce(0, +) / Double(max(1, sent.count)) / elapsed)
    }

    /// Runs the comparison for each fleet size; prints and returns the rows.
    public static func run(binary: LabAgentBinary, sizes: [Int], seconds: Double, options: LabOptions) throws
        -> [LabBenchResult]
    {
        try binary.requireAgent()
        let serf = try? LabCommandRunner.resolve("serf")
        if serf == nil { labSay("serf is not installed (apt-get install serf): measuring netheal only") }
        var results: [LabBenchResult] = []
        for size in sizes {
            var options = options
            options.nodes = size
            let fleet = try LabFleet(options: options)
            try fleet.up()
            defer { fleet.down() }
            let run = LabScenarioRun(fleet: fleet, name: "bench")
            try run.startAgents(binary: binary, warmUp: 60)
            run.finish()
            let agents = fleet.nodes.compactMap { fleet.agent($0) }
            results.append(try measure(agents, seconds: seconds, fleet: fleet, counter: "gossip_out", agent: "netheal"))
            fleet.stopAgents()
            if let serf {
                var serfs: [LabProcess] = []
                for node in fleet.nodes {
                    var argv = [
                        serf.path, "agent", "-node=\(node.name)", "-bind=\(node.address):\(LabTopology.serfPort)",
                        "-rpc-addr=127.0.0.1:7373", "-log-level=warn",
                    ]
                    if node.number > 1 { argv.append("-join=\(fleet.nodes[0].address):\(LabTopology.serfPort)") }
                    serfs.append(try fleet.startProcess(node, role: "serf", argv: argv, log: "serf.log"))
                    if node.number == 1 { Thread.sleep(forTimeInterval: 1) }
                }
                Thread.sleep(forTimeInterval: 10)
                results.append(try measure(serfs, seconds: seconds, fleet: fleet, counter: "serf_out", agent: "serf"))
                fleet.stopExtraProcesses()
            }
        }
        labSay("\n| agent | nodes | RSS mean MB | RSS peak MB | CPU mean % | CPU max % | gossip B/s per node |")
        labSay("|---|---|---|---|---|---|---|")
        for result in results { labSay(result.row) }
        return results
    }
}
