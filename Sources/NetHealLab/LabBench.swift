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
/// for the same window (RSS and CPU from /proc, gossip bytes from nft counters), repeated and
/// summarised as medians.
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

    /// What one `lab bench` invocation measures.
    public struct Plan: Sendable {
        /// Fleet sizes, each on its own fleet.
        public var sizes: [Int] = [5, 20]
        /// Runs per size; each run measures netheal, then serf, in the same namespaces. Default 3.
        public var repeats = 3
        /// Steady-state settling after start (netheal: after every agent reports healthy; serf:
        /// after the last one joined) before the window opens. Default 20 s.
        public var warmUp: Double = 20
        /// The measurement window per agent kind and run. Default 60 s.
        public var seconds: Double = 60

        public init() {}
    }

    /// Runs the comparison for each fleet size; prints every run's rows, the medians and the ratios,
    /// and returns one summary per size.
    public static func run(binary: LabAgentBinary, plan: Plan, options: LabOptions) throws -> [LabBenchSummary] {
        try binary.requireAgent()
        let serf = try? LabCommandRunner.resolve("serf")
        if serf == nil { labSay("serf is not installed (apt-get install serf): measuring netheal only") }
        let header = "| agent | nodes | RSS mean MB | RSS peak MB | CPU mean % | CPU max % | gossip B/s per node |"
        var summaries: [LabBenchSummary] = []
        for size in plan.sizes {
            var options = options
            options.nodes = size
            let fleet = try LabFleet(options: options)
            try fleet.up()
            defer { fleet.down() }
            var summary = LabBenchSummary(nodes: size, netheal: [], serf: [])
            for repeatIndex in 1...plan.repeats {
                let label = "run \(repeatIndex)/\(plan.repeats), \(size) nodes"
                labSay("\(label): netheal agents (warm-up \(Int(plan.warmUp)) s, window \(Int(plan.seconds)) s)")
                let run = LabScenarioRun(fleet: fleet, name: "bench")
                try run.startAgents(binary: binary, warmUp: 60)
                run.finish()
                Thread.sleep(forTimeInterval: plan.warmUp)
                let agents = fleet.nodes.compactMap { fleet.agent($0) }
                let ours = try measure(
                    agents, seconds: plan.seconds, fleet: fleet, counter: "gossip_out", agent: "netheal")
                summary.netheal.append(ours)
                fleet.stopAgents()
                labSay(ours.row)
                guard let serf else { continue }
                labSay("\(label): serf agents")
                let serfs = try startSerf(serf.path, fleet: fleet)
                Thread.sleep(forTimeInterval: plan.warmUp)
                let theirs = try measure(serfs, seconds: plan.seconds, fleet: fleet, counter: "serf_out", agent: "serf")
                summary.serf.append(theirs)
                fleet.stopExtraProcesses()
                labSay(theirs.row)
            }
            summaries.append(summary)
        }
        labSay("\nEvery run:\n\n" + header + "\n|---|---|---|---|---|---|---|")
        for summary in summaries {
            for (index, result) in summary.netheal.enumerated() {
                labSay(result.row)
                if index < summary.serf.count { labSay(summary.serf[index].row) }
            }
        }
        labSay(
            "\nMedians over \(plan.repeats) run(s), window \(Int(plan.seconds)) s after "
                + "\(Int(plan.warmUp)) s warm-up:\n\n"
                + header + "\n|---|---|---|---|---|---|---|")
        for summary in summaries {
            for row in summary.rows { labSay(row) }
        }
        for summary in summaries {
            guard let met = summary.targetMet else { continue }
            labSay(
                "\(summary.nodes) nodes: netheal uses \(met ? "no more" : "MORE") memory and CPU than serf "
                    + "(median RSS mean and CPU mean)")
        }
        return summaries
    }

    /// Starts a serf agent on every node (node 1 first, the others join it).
    static func startSerf(_ path: String, fleet: LabFleet) throws -> [LabProcess] {
        var serfs: [LabProcess] = []
        for node in fleet.nodes {
            var argv = [
                path, "agent", "-node=\(node.name)", "-bind=\(node.address):\(LabTopology.serfPort)",
                "-rpc-addr=127.0.0.1:7373", "-log-level=warn",
            ]
            if node.number > 1 { argv.append("-join=\(fleet.nodes[0].address):\(LabTopology.serfPort)") }
            serfs.append(try fleet.startProcess(node, role: "serf", argv: argv, log: "serf.log"))
            if node.number == 1 { Thread.sleep(forTimeInterval: 1) }
        }
        return serfs
    }
}
