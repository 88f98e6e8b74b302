import Foundation

/// How to build a lab fleet.
public struct LabOptions: Sendable {
    /// Number of nodes. Default 5.
    public var nodes: Int = 5
    /// Give every node a second (management) network, its second gossip address. Default false.
    public var management: Bool = false
    /// Add an attacker host (namespace `nhlab-RUN-x`, 198.18.0.250) on the LAN switch. Default false.
    public var attacker: Bool = false
    /// The run id (namespace and directory names); nil: a random one. Default nil.
    public var runID: String?
    /// Echo every command. Default false.
    public var verbose: Bool = false
    /// Print timeline events as they happen. Default true.
    public var echoTimeline: Bool = true
    /// Keep the run directory (logs, configs) after teardown. Default true: logs are evidence.
    public var keepRunDirectory: Bool = true
    /// `protocol:` keys written into the cluster file (key, YAML value), in order. Default none.
    public var protocolOverrides: [(String, String)] = []

    public init() {}
}

/// A running lab fleet: namespaces, switch, router, per-node ifupdown, link watchers, agents or
/// naive loops, faults. Everything it creates is removed by `down()` — also called on SIGINT/SIGTERM
/// (see `LabCleanup`) and when `up()` fails half-way.
public final class LabFleet: @unchecked Sendable {
    /// Names and addresses.
    public let topology: LabTopology
    /// File locations and contents.
    public let files: LabFiles
    /// Runs the commands.
    public let runner: LabCommandRunner
    /// The run's events.
    public let timeline: LabTimeline
    /// The options it was built with.
    public let options: LabOptions

    let lock = NSLock()
    var watchers: [String: LinkWatcher] = [:]
    var agents: [String: LabProcess] = [:]
    var naiveLoops: [String: LabProcess] = [:]
    var extras: [LabProcess] = []
    var activeFaults: [Int: LabFault] = [:]
    var nextFaultID = 1
    var agentBinary: String?
    /// Extra environment of each node's agent, by node name (e.g. `NOTIFY_SOCKET`, `WATCHDOG_USEC`).
    var agentEnvironments: [String: [String: String]] = [:]
    /// The namespaces this fleet created (only these are removed by `down()`).
    private var createdNamespaces: [String] = []
    private var isUp = false
    private var isDown = false

    public init(options: LabOptions) throws {
        self.options = options
        topology = try LabTopology(
            runID: options.runID ?? LabTopology.randomRunID(), nodeCount: options.nodes, management: options.management,
            attacker: options.attacker)
        files = LabFiles(topology: topology)
        runner = LabCommandRunner(verbose: options.verbose)
        timeline = LabTimeline(echo: options.echoTimeline)
    }

    /// The nodes, in member order.
    public var nodes: [LabNode] { topology.nodes }

    // MARK: - Up

    /// Builds the network and brings every managed interface up with ifupdown. On any failure,
    /// tears down what was built and rethrows.
    public func up() throws {
        try Self.checkPrerequisites()
        LabCleanup.shared.register(self)
        do {
            for ns in topology.namespaces where FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
                throw LabError("namespace \(ns) already exists — run `netheal-cluster lab down --all` first")
            }
            try FileManager.default.createDirectory(atPath: files.runDirectory, withIntermediateDirectories: true)
            for command in topology.setupCommands() {
                try runner.run(command)
                if command.starts(with: ["ip", "netns", "add"]) {
                    lock.lock()
                    createdNamespaces.append(command[3])
                    lock.unlock()
                }
            }
            for node in nodes {
                try writeIfupdownConfiguration(node)
                try runner.run(
                    in: node.namespace, ["ifup", node.interface, "--state-dir", files.ifupdownStateDirectory(node)])
                try runner.run(in: node.namespace, ["nft", "-f", "-"], stdin: LabTopology.counterRuleset())
            }
            isUp = true
            timeline.record(
                .lab, nil,
                "fleet up: \(nodes.count) nodes, run \(topology.runID)"
                    + (topology.management ? ", management network" : "") + ", files in \(files.runDirectory)")
            for node in nodes {
                let watcher = try LinkWatcher(node: node, timeline: timeline, runner: runner)
                watcher.onCycle { [weak self] node in self?.linkCycled(node) }
                lock.lock()
                watchers[node.name] = watcher
                lock.unlock()
            }
            try waitForConnectivity()
        } catch {
            down()
            throw error
        }
    }

    /// Every node reaches the gateway and the stand-in (ARP and bridge learning settle first).
    func waitForConnectivity(timeout: Double = 10) throws {
        for node in nodes {
            for target in [LabTopology.gateway, LabTopology.standIn] {
                let deadline = Date().addingTimeInterval(timeout)
                while !ping(from: node, to: target) {
                    if Date() > deadline { throw LabError("\(node.name) cannot reach \(target) after set-up") }
                }
            }
        }
    }

    /// Writes `/etc/netns/NS/network/interfaces` and the hook directories, and the node's directories.
    func writeIfupdownConfiguration(_ node: LabNode) throws {
        let fm = FileManager.default
        let network = files.etcNetns(node) + "/network"
        for dir in LabFiles.ifupdownHookDirectories {
            try fm.createDirectory(atPath: network + "/" + dir, withIntermediateDirectories: true)
        }
        try files.interfacesFile(node).write(toFile: network + "/interfaces", atomically: true, encoding: .utf8)
        for dir in [files.ifupdownStateDirectory(node), files.stateDirectory(node)] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    /// The tools the lab runs must exist, and it must run as root.
    public static func checkPrerequisites() throws {
        guard geteuid() == 0 else { throw LabError("the lab needs root (network namespaces, nft, ifupdown)") }
        for tool in ["ip", "nft", "ifup", "ifdown", "ping", "sysctl"] { _ = try LabCommandRunner.resolve(tool) }
    }

    // MARK: - Down

    /// Stops every process the lab started, deletes every namespace (and `/etc/netns` directory) this
    /// fleet created (and the run directory unless `keepRunDirectory`). Idempotent; never throws.
    public func down() {
        lock.lock()
        if isDown {
            lock.unlock()
            return
        }
        isDown = true
        let processes = Array(agents.values) + Array(naiveLoops.values) + extras
        let watching = Array(watchers.values)
        agents = [:]
        naiveLoops = [:]
        watchers = [:]
        extras = []
        let namespaces = createdNamespaces
        lock.unlock()
        for process in processes { process.signal(SIGKILL) }
        for process in processes { process.waitUntilExit() }
        for watcher in watching { watcher.stop() }
        Self.removeNamespaces(namespaces, runner: runner)
        if !options.keepRunDirectory && !namespaces.isEmpty {
            try? FileManager.default.removeItem(atPath: files.runDirectory)
        }
        if isUp {
            timeline.record(.lab, nil, "fleet down: namespaces and /etc/netns entries of run \(topology.runID) removed")
        }
        LabCleanup.shared.unregister(self)
    }

    /// Kills what still runs in each namespace (by pid, from `ip netns pids`), deletes the
    /// namespace and its `/etc/netns` directory. Returns what was removed.
    @discardableResult
    static func removeNamespaces(_ namespaces: [String], runner: LabCommandRunner) -> [String] {
        var removed: [String] = []
        for ns in namespaces {
            if FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
                let pids = (try? runner.run(["ip", "netns", "pids", ns])) ?? ""
                for pid in pids.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) {
                    kill(pid, SIGKILL)
                }
                if (try? runner.run(["ip", "netns", "del", ns])) != nil { removed.append(ns) }
            }
            let etc = "/etc/netns/" + ns
            if FileManager.default.fileExists(atPath: etc) {
                try? FileManager.default.removeItem(atPath: etc)
                removed.append(etc)
            }
        }
        return removed
    }

    /// Removes the leftovers of every earlier lab run: namespaces and `/etc/netns` entries named
    /// `nhlab-*`, and run directories `/tmp/nhlab-*`. Returns what it removed.
    public static func downAll(runner: LabCommandRunner = LabCommandRunner()) -> [String] {
        let prefix = LabTopology.namespacePrefix
        let fm = FileManager.default
        var names = Set((try? fm.contentsOfDirectory(atPath: "/run/netns")) ?? [])
        names.formUnion((try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [])
        var removed = removeNamespaces(names.filter { $0.hasPrefix(prefix) }.sorted(), runner: runner)
        for entry in ((try? fm.contentsOfDirectory(atPath: "/tmp")) ?? []).sorted() where entry.hasPrefix("nhlab-") {
            if (try? fm.removeItem(atPath: "/tmp/" + entry)) != nil { removed.append("/tmp/" + entry) }
        }
        return removed
    }

    // MARK: - Observation

    /// One ICMP echo from `node` to `address` (1 s timeout); true when it answered.
    public func ping(from node: LabNode, to address: String, timeout: Int = 1) -> Bool {
        (try? runner.runAllowingFailure(
            ["ip", "netns", "exec", node.namespace, "ping", "-n", "-q", "-c1", "-W\(timeout)", address]).succeeded)
            ?? false
    }

    /// The managed interface's state: administratively up, has its address, has the default route.
    public func interfaceState(_ node: LabNode) -> (up: Bool, address: Bool, defaultRoute: Bool) {
        let link = (try? runner.run(["ip", "-n", node.namespace, "-o", "link", "show", "dev", node.interface])) ?? ""
        let addr =
            (try? runner.run(["ip", "-n", node.namespace, "-o", "-4", "addr", "show", "dev", node.interface])) ?? ""
        let route = (try? runner.run(["ip", "-n", node.namespace, "route", "show", "default"])) ?? ""
        return (
            LinkLine.parse(Substring(link))?.adminUp ?? false, addr.contains(" \(node.address)/"),
            route.contains("via \(LabTopology.gateway) dev \(node.interface)")
        )
    }

    /// Gossip bytes sent and received by the node so far (nft named counters, UDP port 7474).
    public func gossipBytes(_ node: LabNode) -> (sent: Int, received: Int) {
        (counter(node, "gossip_out"), counter(node, "gossip_in"))
    }

    /// The byte count of one of the lab's named nft counters in a node namespace (0 when unreadable).
    func counter(_ node: LabNode, _ name: String) -> Int {
        let text =
            (try? runner.run(
                in: node.namespace, ["nft", "list", "counter", "inet", LabTopology.counterTable, name])) ?? ""
        // "… packets 12 bytes 3456 …"
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard let i = words.firstIndex(of: "bytes"), i + 1 < words.count else { return 0 }
        return Int(words[i + 1]) ?? 0
    }

    /// Number of link-down events of `node` (or of every node) since `since`, as the watchers saw them.
    public func cycles(node: String? = nil, since: Date = .distantPast) -> Int {
        timeline.events(.linkDown, node: node, since: since).count
    }
}
