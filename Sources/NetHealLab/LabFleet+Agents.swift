import Foundation

/// The `netheal-cluster` executable the lab runs on every node.
public struct LabAgentBinary: Sendable {
    /// Absolute path.
    public var path: String

    public init(path: String) { self.path = path }

    /// The executable of this process (`/proc/self/exe`): right when the lab runs as `netheal-cluster lab`.
    public static func current() -> LabAgentBinary {
        let path =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return LabAgentBinary(path: path)
    }

    /// Whether the executable has subcommand `name` (its `--help` shows that subcommand's usage;
    /// an unknown subcommand with `--help` prints the root's help and exits 0 too).
    public func has(_ name: String) -> Bool {
        guard let output = try? LabCommandRunner().runAllowingFailure([path, name, "--help"]), output.succeeded else {
            return false
        }
        return output.stdout.contains("USAGE: netheal-cluster \(name)")
    }

    /// Throws unless the executable has the `run` (agent) and `status` subcommands.
    public func requireAgent() throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LabError("no netheal-cluster executable at \(path) — run `swift build` first")
        }
        for sub in ["run", "status"] where !has(sub) {
            throw LabError(
                "\(path) has no `\(sub)` subcommand yet (the agent lands with issue 5): agent scenarios cannot run")
        }
    }
}

extension LabFleet {
    // MARK: - Configuration

    /// Creates every node's key (`netheal-cluster keygen --out`), the cluster file, the node files,
    /// and checks them all with `netheal-cluster config check --require-keys`.
    public func writeConfiguration(binary: LabAgentBinary) throws {
        var keys: [String] = []
        for node in nodes {
            try FileManager.default.createDirectory(
                atPath: files.nodeDirectory(node), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: files.keyFile(node))
            let key = try runner.run([binary.path, "keygen", "--out", files.keyFile(node)])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.hasPrefix("ed25519:") else { throw LabError("keygen printed `\(key)`, expected ed25519:<hex>") }
            keys.append(key)
            try files.nodeYAML(node).write(toFile: files.nodeFile(node), atomically: true, encoding: .utf8)
        }
        let cluster = files.clusterYAML(publicKeys: keys, protocolOverrides: options.protocolOverrides)
        try cluster.write(toFile: files.clusterFile, atomically: true, encoding: .utf8)
        try runner.run(
            [binary.path, "config", "check", "--require-keys", files.clusterFile] + nodes.map(files.nodeFile))
        lock.lock()
        agentBinary = binary.path
        lock.unlock()
        timeline.record(
            .lab, nil,
            "configuration written and checked: \(files.clusterFile), \(nodes.count) node files, keys from keygen")
    }

    // MARK: - Agents

    /// Starts the agent of every node.
    public func startAgents() throws {
        for node in nodes { try startAgent(node) }
    }

    /// Starts (or restarts) one node's agent: `ip netns exec NS netheal-cluster run --config NODE.yaml`.
    @discardableResult
    public func startAgent(_ node: LabNode) throws -> LabProcess {
        lock.lock()
        let binary = agentBinary
        let old = agents[node.name]
        let environment = agentEnvironments[node.name] ?? [:]
        lock.unlock()
        guard let binary else { throw LabError("writeConfiguration(binary:) must run before agents start") }
        if let old, old.isRunning { throw LabError("the agent of \(node.name) is already running (pid \(old.pid))") }
        let agent = try LabProcess(
            node: node, role: "agent", runMount: files.runMount(node),
            argv: [binary, "run", "--config", files.nodeFile(node)], logPath: files.agentLog(node),
            environment: environment)
        lock.lock()
        agents[node.name] = agent
        lock.unlock()
        timeline.record(.lab, node.name, "agent started (pid \(agent.pid)), log \(files.agentLog(node))")
        return agent
    }

    /// Extra environment for `node`'s agent from its next start on (e.g. `NOTIFY_SOCKET`, `WATCHDOG_USEC`).
    public func setAgentEnvironment(_ node: LabNode, _ environment: [String: String]) {
        lock.lock()
        agentEnvironments[node.name] = environment
        lock.unlock()
    }

    /// Sends `signal` to a node's agent (SIGKILL = `kill -9`) and waits until it is gone.
    public func stopAgent(_ node: LabNode, signal: Int32 = SIGTERM) {
        lock.lock()
        let agent = agents.removeValue(forKey: node.name)
        lock.unlock()
        guard let agent else { return }
        if signal == SIGKILL {
            agent.signal(SIGKILL)
            agent.waitUntilExit()
        } else {
            agent.stop()
        }
        timeline.record(
            .lab, node.name,
            "agent stopped with \(signal == SIGKILL ? "kill -9" : "signal \(signal)") (\(agent.exitDescription))")
    }

    /// Stops every agent (SIGTERM).
    public func stopAgents() {
        for node in nodes { stopAgent(node) }
    }

    /// The running agent of a node.
    public func agent(_ node: LabNode) -> LabProcess? {
        lock.lock()
        defer { lock.unlock() }
        return agents[node.name]
    }

    /// Agents that have exited on their own (crashed): (node, how, log tail).
    public func deadAgents() -> [(node: String, how: String, log: String)] {
        lock.lock()
        let all = agents.sorted { $0.key < $1.key }
        lock.unlock()
        return all.filter { !$0.value.isRunning }.map { ($0.key, $0.value.exitDescription, $0.value.logTail(15)) }
    }

    /// `netheal-cluster status --json` of a node's agent (through its control socket); nil when it
    /// does not answer.
    public func status(_ node: LabNode) -> AgentStatus? {
        lock.lock()
        let binary = agentBinary
        lock.unlock()
        guard let binary,
            let output = try? runner.runAllowingFailure([binary, "status", "--json", "--config", files.nodeFile(node)]),
            output.succeeded
        else { return nil }
        return AgentStatus(json: output.stdout)
    }

    /// `netheal-cluster status` (the human table) of a node's agent.
    public func statusText(_ node: LabNode) -> String {
        lock.lock()
        let binary = agentBinary
        lock.unlock()
        guard let binary else { return "(no agent)" }
        guard let output = try? runner.runAllowingFailure([binary, "status", "--config", files.nodeFile(node)]) else {
            return "(status failed to start)"
        }
        return output.stdout + (output.stderr.isEmpty ? "" : output.stderr + "\n")
    }

    // MARK: - Other processes

    /// Starts any program in a node's namespace (with the node's /run), logging to `nI/LOG`.
    public func startProcess(_ node: LabNode, role: String, argv: [String], log: String) throws -> LabProcess {
        let process = try LabProcess(
            node: node, role: role, runMount: files.runMount(node), argv: argv,
            logPath: files.nodeDirectory(node) + "/" + log)
        lock.lock()
        extras.append(process)
        lock.unlock()
        return process
    }

    /// Stops every process started with `startProcess`.
    public func stopExtraProcesses() {
        lock.lock()
        let all = extras
        extras = []
        lock.unlock()
        for process in all { process.stop() }
    }

    // MARK: - The naive seed loop

    /// The seed script's loop with lab addresses: ping the stand-in, on failure `ifdown IF; ifup IF`,
    /// every 30 s (`interval`). Each cycle is also logged with its time.
    public static func naiveLoopScript(interface: String, interval: Int = 30) -> String {
        """
        trap 'kill $s 2>/dev/null; exit 0' TERM INT
        while true; do
          ping -c1 -W2 \(LabTopology.standIn) >/dev/null 2>&1 || ( echo "$(date +%T.%N) cycle \(interface)"; ifdown \(interface); ifup \(interface) )
          sleep \(interval) & s=$!; wait $s
        done
        """
    }

    /// Starts the naive loop on every node (in place of agents).
    public func startNaiveLoops(interval: Int = 30) throws {
        for node in nodes {
            let loop = try LabProcess(
                node: node, role: "naive loop", runMount: files.runMount(node),
                argv: ["/bin/bash", "-c", Self.naiveLoopScript(interface: node.interface, interval: interval)],
                logPath: files.naiveLog(node))
            lock.lock()
            naiveLoops[node.name] = loop
            lock.unlock()
        }
        timeline.record(
            .lab, nil,
            "naive seed loop started on every node (ping \(LabTopology.standIn) || ifdown/ifup; sleep \(interval))")
    }

    /// Stops every naive loop.
    public func stopNaiveLoops() {
        lock.lock()
        let loops = Array(naiveLoops.values)
        naiveLoops = [:]
        lock.unlock()
        for loop in loops { loop.stop() }
        if !loops.isEmpty { timeline.record(.lab, nil, "naive loops stopped") }
    }
}
