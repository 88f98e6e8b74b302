import Foundation

/// Where a lab run keeps its files, and what they contain (the content functions are pure).
///
/// ```
/// /tmp/nhlab-RUN/               run directory (`lab down --all` removes every /tmp/nhlab-*)
///   cluster.yaml                the shared cluster file (real public keys)
///   n1/node.yaml n1/node.key    node file, secret key (written by `netheal-cluster keygen --out`)
///   n1/state/                   the agent's state_dir
///   n1/run/network/             ifupdown's state: bind-mounted over /run for the node's agent
///   n1/control.sock             the agent's control socket
///   n1/agent.log n1/naive.log   agent / naive-loop output;  timeline.log  the run's events
/// /etc/netns/nhlab-RUN-n1/network/interfaces (+ if-*.d)   the node's ifupdown configuration
/// ```
public struct LabFiles: Sendable {
    /// Every lab run directory starts with this.
    public static let runDirectoryPrefix = "/tmp/nhlab-"

    /// The run's topology.
    public var topology: LabTopology

    public init(topology: LabTopology) { self.topology = topology }

    /// The run directory.
    public var runDirectory: String { Self.runDirectoryPrefix + topology.runID }
    /// The shared cluster file.
    public var clusterFile: String { runDirectory + "/cluster.yaml" }
    /// The run's timeline, written at the end of each scenario.
    public var timelineFile: String { runDirectory + "/timeline.log" }

    /// A node's directory.
    public func nodeDirectory(_ node: LabNode) -> String { runDirectory + "/" + node.name }
    /// A node's node file.
    public func nodeFile(_ node: LabNode) -> String { nodeDirectory(node) + "/node.yaml" }
    /// A node's secret key file.
    public func keyFile(_ node: LabNode) -> String { nodeDirectory(node) + "/node.key" }
    /// A node's agent state directory.
    public func stateDirectory(_ node: LabNode) -> String { nodeDirectory(node) + "/state" }
    /// The directory mounted over /run for the node's agent and naive loop.
    public func runMount(_ node: LabNode) -> String { nodeDirectory(node) + "/run" }
    /// ifupdown's state directory of the node (`--state-dir`), = /run/network inside `runMount`.
    public func ifupdownStateDirectory(_ node: LabNode) -> String { runMount(node) + "/network" }
    /// The agent's control socket.
    public func controlSocket(_ node: LabNode) -> String { nodeDirectory(node) + "/control.sock" }
    /// The agent's log (stdout and stderr).
    public func agentLog(_ node: LabNode) -> String { nodeDirectory(node) + "/agent.log" }
    /// The naive loop's log.
    public func naiveLog(_ node: LabNode) -> String { nodeDirectory(node) + "/naive.log" }
    /// `/etc/netns/NS`: bind-mounted over /etc by `ip netns exec`.
    public func etcNetns(_ node: LabNode) -> String { "/etc/netns/" + node.namespace }

    /// The node's `/etc/network/interfaces` (pure): the managed interface, static, with the gateway,
    /// so `ifdown IF; ifup IF` restores address and default route.
    public func interfacesFile(_ node: LabNode) -> String {
        """
        # netheal lab, run \(topology.runID), node \(node.name): written by `netheal-cluster lab`, removed at teardown.
        iface \(node.interface) inet static
            address \(node.address)/\(LabTopology.prefixLength)
            gateway \(LabTopology.gateway)

        """
    }

    /// The directories ifupdown expects next to `interfaces` (the bind mount hides the host's).
    public static let ifupdownHookDirectories = ["if-pre-up.d", "if-up.d", "if-down.d", "if-post-down.d"]

    /// The cluster file (pure). `publicKeys` in node order, each `ed25519:<hex>`.
    public func clusterYAML(publicKeys: [String], protocolOverrides: [(String, String)]) -> String {
        var lines = [
            "# netheal lab, run \(topology.runID): written by `netheal-cluster lab`.",
            "cluster_id: lab-\(topology.runID)",
            "members:",
        ]
        for (node, key) in zip(topology.nodes, publicKeys) {
            var addresses = ["\"\(node.address):\(LabTopology.gossipPort)\""]
            if topology.management { addresses.append("\"\(node.managementAddress):\(LabTopology.gossipPort)\"") }
            lines.append("  - name: \(node.name)")
            lines.append("    addresses: [\(addresses.joined(separator: ", "))]")
            lines.append("    public_key: \(key)")
            lines.append("    failure_domain: rack-\(node.number <= (topology.nodes.count + 1) / 2 ? "a" : "b")")
        }
        if !protocolOverrides.isEmpty {
            lines.append("protocol:")
            for (key, value) in protocolOverrides { lines.append("  \(key): \(value)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The node file (pure): probes the gateway and the stand-in only, heals with ifupdown.
    public func nodeYAML(_ node: LabNode) -> String {
        """
        # netheal lab, run \(topology.runID), node \(node.name): written by `netheal-cluster lab`.
        cluster_file: \(clusterFile)
        member: \(node.name)
        secret_key_file: \(keyFile(node))
        interface: \(node.interface)
        probe_targets:
          - gateway
          - icmp \(LabTopology.standIn)
        heal_action:
          kind: ifupdown
          timeout: 30s
        state_dir: \(stateDirectory(node))
        control_socket: \(controlSocket(node))
        mode: heal
        log_level: info

        """
    }
}
