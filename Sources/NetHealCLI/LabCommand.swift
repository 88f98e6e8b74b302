import ArgumentParser
import Foundation
import NetHealLab

/// `netheal-cluster lab`: a real fleet in network namespaces on this machine (root only).
public struct LabCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A real fleet in network namespaces: scenarios with assertions, the demo, fault injection.",
        discussion: """
            Everything lives in namespaces named nhlab-RUN-*, with addresses in 198.18.0.0/15; nothing is \
            sent outside them and nothing in the root namespace is touched. See docs/lab.md.
            """,
        subcommands: [
            LabScenarioCommand.self, LabDemoCommand.self, LabUpCommand.self, LabDownCommand.self, LabListCommand.self,
            LabBenchCommand.self,
        ]
    )

    public init() {}
}

/// Options shared by the lab subcommands that build a fleet.
public struct LabFleetOptions: ParsableArguments {
    @Option(name: .long, help: "Number of nodes (default 5).")
    public var nodes = 5

    @Flag(name: .long, help: "Give every node a second network (198.18.1.0/24), its second gossip address.")
    public var management = false

    @Option(
        name: .long,
        help: ArgumentHelp("The netheal-cluster executable the agents run (default: this one).", valueName: "path"))
    public var binary: String?

    @Flag(name: .long, help: "Print every ip/nft/ifup command.")
    public var verbose = false

    public init() {}

    var labOptions: LabOptions {
        var options = LabOptions()
        options.nodes = nodes
        options.management = management
        options.verbose = verbose
        return options
    }

    var agentBinary: LabAgentBinary { binary.map(LabAgentBinary.init(path:)) ?? .current() }
}

/// `netheal-cluster lab scenario NAME…`: runs scenarios, prints timelines and figures, exits 1 on a failed check.
public struct LabScenarioCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "scenario", abstract: "Run lab scenarios (or `all`); exit 1 when a check fails.")

    @Argument(help: ArgumentHelp("Scenario names, or `all` (see `lab list`).", valueName: "name"))
    public var names: [String]

    @OptionGroup public var fleet: LabFleetOptions

    @Option(name: .long, help: "Length of outage, partition and loss phases in seconds (default 60).")
    public var faultSeconds: Double = 60

    @Flag(name: .long, help: "Skip the naive seed loop comparison in upstream-outage.")
    public var noNaive = false

    @Option(name: .long, help: "Length of each flood phase of hostile-flood in seconds (default 60).")
    public var floodSeconds: Double = 60

    @Option(name: .long, help: "Target rate of each flood phase of hostile-flood, datagrams/s (default 50000).")
    public var floodRate: Double = 50_000

    public init() {}

    public func validate() throws {
        if names.isEmpty { throw ValidationError("name a scenario (or `all`); `netheal-cluster lab list` lists them") }
        for name in names where name != "all" { _ = try LabScenarios.named(name) }
        if faultSeconds < 5 { throw ValidationError("--fault-seconds must be at least 5") }
        if floodSeconds < 10 { throw ValidationError("--flood-seconds must be at least 10 (the wedge needs time to heal)") }
        if !(1...1_000_000).contains(floodRate) { throw ValidationError("--flood-rate must be 1 to 1000000 datagrams/s") }
    }

    public func run() throws {
        LabCleanup.shared.installSignalHandlers()
        let scenarios = names == ["all"] ? LabScenarios.all : try names.map(LabScenarios.named)
        var settings = LabScenarioSettings()
        settings.binary = fleet.agentBinary
        settings.faultSeconds = faultSeconds
        settings.compareNaive = !noNaive
        settings.floodSeconds = floodSeconds
        settings.floodRate = floodRate
        var failed: [String] = []
        for scenario in scenarios {
            labSay("\n== scenario \(scenario.name): \(scenario.summary)")
            let report = try scenario.run(options: fleet.labOptions, settings: settings)
            labSay(report.rendered(includeTimeline: false))
            if !report.passed { failed.append(scenario.name) }
        }
        if scenarios.count > 1 {
            labSay(
                failed.isEmpty ? "all \(scenarios.count) scenarios passed" : "FAILED: \(failed.joined(separator: ", "))"
            )
        }
        if !failed.isEmpty { throw ExitCode.failure }
    }
}

/// `netheal-cluster lab demo`: the README's main job.
public struct LabDemoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "5 real agents: an upstream outage cycles nothing, a wedged interface is healed, then clean up.")

    @OptionGroup public var fleet: LabFleetOptions

    @Option(name: .long, help: "Length of the upstream outage in seconds (default 20).")
    public var outageSeconds: Double = 20

    public init() {}

    public func run() throws {
        LabCleanup.shared.installSignalHandlers()
        if !(try LabDemo.run(binary: fleet.agentBinary, outageSeconds: outageSeconds, options: fleet.labOptions)) {
            throw ExitCode.failure
        }
    }
}

/// `netheal-cluster lab up`: build a fleet and keep it until Ctrl-C (or --for), optionally with agents and faults.
public struct LabUpCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Build a fleet, optionally start agents or the naive loop and inject faults; tear down on Ctrl-C.")

    @OptionGroup public var fleet: LabFleetOptions

    @Flag(name: .long, help: "Start one netheal agent per node.")
    public var agents = false

    @Flag(name: .long, help: "Start the naive seed loop (ping || ifdown; ifup; sleep 30) on every node.")
    public var naive = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Inject a fault after --fault-after seconds (repeatable): wedge:n1, wedge-drop:n1, upstream, anchor, rack:n1,n2, partition:n1,n2|n3, oneway:n1|n2, loss:30[:n1].",
            valueName: "fault"))
    public var fault: [String] = []

    @Option(name: .long, help: "Seconds before the faults are injected (default 10).")
    public var faultAfter: Double = 10

    @Option(name: .customLong("for"), help: "Tear down after this many seconds (default: wait for Ctrl-C).")
    public var duration: Double?

    public init() {}

    public func validate() throws {
        if agents && naive { throw ValidationError("choose --agents or --naive, not both") }
    }

    public func run() throws {
        LabCleanup.shared.installSignalHandlers()
        let lab = try LabFleet(options: fleet.labOptions)
        let faults = try fault.map { try LabFault.parse($0, topology: lab.topology) }
        try lab.up()
        defer { lab.down() }
        for node in lab.nodes {
            labSay(
                "  \(node.name)  ns \(node.namespace)  \(node.interface) \(node.address)"
                    + (lab.topology.management ? "  \(node.managementInterface) \(node.managementAddress)" : ""))
        }
        labSay(
            "  router ns \(lab.topology.routerNamespace): gateway \(LabTopology.gateway), stand-in \(LabTopology.standIn)"
        )
        labSay("  try: ip netns exec \(lab.nodes[0].namespace) ping \(LabTopology.standIn)")
        if agents {
            try lab.writeConfiguration(binary: fleet.agentBinary)
            try lab.startAgents()
        }
        if naive { try lab.startNaiveLoops() }
        let start = Date()
        if !faults.isEmpty {
            Thread.sleep(forTimeInterval: faultAfter)
            for fault in faults { try lab.inject(fault) }
        }
        labSay(duration == nil ? "lab running; Ctrl-C tears it down" : "lab running for \(Int(duration!)) s")
        while duration == nil || Date().timeIntervalSince(start) < duration! {
            Thread.sleep(forTimeInterval: 0.5)
        }
    }
}

/// `netheal-cluster lab down --all`: remove the leftovers of earlier runs.
public struct LabDownCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove leftovers of earlier lab runs (namespaces nhlab-*, /etc/netns/nhlab-*, /tmp/nhlab-*).")

    @Flag(name: .long, help: "Remove every lab run's leftovers (required).")
    public var all = false

    public init() {}

    public func validate() throws {
        if !all { throw ValidationError("give --all (a running lab tears itself down on exit or Ctrl-C)") }
    }

    public func run() throws {
        guard geteuid() == 0 else { throw ValidationError("lab down needs root") }
        let removed = LabFleet.downAll()
        labSay(removed.isEmpty ? "nothing to remove" : removed.map { "removed \($0)" }.joined(separator: "\n"))
    }
}

/// `netheal-cluster lab list`: the scenarios.
public struct LabListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List the lab scenarios.")

    public init() {}

    public func run() {
        for scenario in LabScenarios.all {
            labSay(
                scenario.name.padding(toLength: 22, withPad: " ", startingAt: 0) + scenario.summary
                    + (scenario.needsAgents ? "" : " (no agent needed)"))
        }
    }
}

/// `netheal-cluster lab bench`: agent RSS, CPU and gossip bytes at several fleet sizes, next to serf's.
public struct LabBenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Measure agent RSS, CPU and gossip bytes at several fleet sizes, next to serf agents in the same namespaces."
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Fleet sizes (default 5 20).")
    public var sizes: [Int] = [5, 20]

    @Option(name: .long, help: "Measurement window per agent kind, size and run, seconds (default 60).")
    public var seconds: Double = 60

    @Option(name: .long, help: "Steady-state settling before each window, seconds (default 20).")
    public var warmUp: Double = 20

    @Option(name: .long, help: "Runs per size, each netheal then serf; medians are reported (default 3).")
    public var `repeat`: Int = 3

    @OptionGroup public var fleet: LabFleetOptions

    public init() {}

    public func validate() throws {
        if sizes.isEmpty || sizes.contains(where: { !(2...LabTopology.maximumNodes).contains($0) }) {
            throw ValidationError("--sizes takes fleet sizes between 2 and \(LabTopology.maximumNodes)")
        }
        if seconds < 5 { throw ValidationError("--seconds must be at least 5") }
        if warmUp < 0 { throw ValidationError("--warm-up must not be negative") }
        if !(1...20).contains(`repeat`) { throw ValidationError("--repeat takes 1 to 20 runs") }
    }

    public func run() throws {
        LabCleanup.shared.installSignalHandlers()
        var options = fleet.labOptions
        options.echoTimeline = false
        var plan = LabBench.Plan()
        plan.sizes = sizes
        plan.seconds = seconds
        plan.warmUp = warmUp
        plan.repeats = `repeat`
        _ = try LabBench.run(binary: fleet.agentBinary, plan: plan, options: options)
    }
}
