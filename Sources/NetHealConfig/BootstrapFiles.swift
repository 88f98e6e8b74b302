/// What `fleet init` writes into every node file besides the node's own name.
public struct BootstrapDefaults: Hashable, Sendable {
    /// The cluster id (1 to 64 bytes of UTF-8, no control characters). No default.
    public var clusterID: String
    /// The managed interface of every node. Default `eth0`.
    public var interface: String
    /// Probe targets after `gateway` (anchors beyond the gateway). Default `icmp 1.1.1.1`, `icmp 9.9.9.9`.
    public var anchors: [NodeSettings.ProbeTarget]
    /// The heal action kind (not `command`, which needs an argv). Default `ifupdown`.
    public var healAction: NodeSettings.HealAction.Kind
    /// The node mode. Default `dry-run`: the first week is a shadow week.
    public var mode: NodeMode
    /// Where each node keeps its secret key. Default `/etc/netheal/node.key`.
    public var secretKeyFile: String

    /// Default of `anchors`.
    public static let defaultAnchors: [NodeSettings.ProbeTarget] = [
        .icmp(IPAddress("1.1.1.1")!), .icmp(IPAddress("9.9.9.9")!),
    ]

    public init(
        clusterID: String, interface: String = "eth0",
        anchors: [NodeSettings.ProbeTarget] = BootstrapDefaults.defaultAnchors,
        healAction: NodeSettings.HealAction.Kind = .ifupdown, mode: NodeMode = .dryRun,
        secretKeyFile: String = "/etc/netheal/node.key"
    ) {
        self.clusterID = clusterID
        self.interface = interface
        self.anchors = anchors
        self.healAction = healAction
        self.mode = mode
        self.secretKeyFile = secretKeyFile
    }
}

/// The files of a fleet configuration directory, as `fleet init` lays it out:
///
///     DIR/cluster.yaml          the master cluster file (public keys `PENDING` until collected)
///     DIR/NAME/node.yaml        NAME's node file (`cluster_file: cluster.yaml`)
///     DIR/NAME/cluster.yaml     NAME's copy of the cluster file, byte-identical to the master
///
/// `DIR/NAME/` is exactly what goes to `/etc/netheal/` on node NAME (plus the key, made there).
public struct BootstrapFleet: Hashable, Sendable {
    /// The name of the cluster file, in DIR and in every node directory.
    public static let clusterFileName = "cluster.yaml"
    /// The name of the node file in every node directory.
    public static let nodeFileName = "node.yaml"
    /// The placeholder `public_key` value of a member whose key has not been collected yet.
    public static let pendingKey = "PENDING"

    /// The master cluster file's text.
    public var clusterFile: String
    /// Each node's node file, in node list order.
    public var nodeFiles: [NodeFile]

    /// One node's node file text.
    public struct NodeFile: Hashable, Sendable {
        /// The member name (and the node directory's name).
        public var name: String
        /// The node file's text.
        public var text: String
    }

    /// Generates the files for `nodes`, and checks them with the real parsers (pending keys stood in
    /// for by unique placeholders), so what is written always passes `config check` once the keys
    /// are filled in. Throws the problems when the defaults make an invalid node file.
    public static func generate(nodes: [BootstrapNode], defaults: BootstrapDefaults, source: String)
        throws(ConfigProblems) -> BootstrapFleet
    {
        var problems: [ConfigProblem] = []
        let idBytes = defaults.clusterID.utf8.count
        if !ClusterLimits.clusterIDBytes.contains(idBytes)
            || defaults.clusterID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            problems.append(
                ConfigProblem(
                    file: "--cluster-id", line: nil, column: nil, field: "cluster_id",
                    message: "must be 1 to 64 bytes of UTF-8 without control characters — e.g. `prod-eu1`"))
        }
        if defaults.healAction == .command {
            problems.append(
                ConfigProblem(
                    file: "--heal-action", line: nil, column: nil, field: "heal_action",
                    message:
                        "`command` needs an argv: generate with another kind, then edit each node file (docs/configuration.md)"
                ))
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }

        let fleet = BootstrapFleet(
            clusterFile: clusterText(nodes: nodes, clusterID: defaults.clusterID, source: source),
            nodeFiles: nodes.map { NodeFile(name: $0.name, text: nodeText(name: $0.name, defaults: defaults)) })
        let stand = try BootstrapKeys.standInForPending(Array(fleet.clusterFile.utf8), path: clusterFileName)
        for node in fleet.nodeFiles {
            _ = try ConfigLoader.parseNode(Array(node.text.utf8), path: "\(node.name)/\(nodeFileName)") {
                _ throws(ConfigProblems) in stand
            }
        }
        return fleet
    }

    /// The node file of one more node (`fleet add-node`), checked against `cluster` (the cluster
    /// file that already lists it; pending keys are stood in for).
    public static func nodeFile(name: String, defaults: BootstrapDefaults, cluster: [UInt8]) throws(ConfigProblems)
        -> String
    {
        let text = nodeText(name: name, defaults: defaults)
        let stand = try BootstrapKeys.standInForPending(cluster, path: clusterFileName)
        _ = try ConfigLoader.parseNode(Array(text.utf8), path: "\(name)/\(nodeFileName)") { _ throws(ConfigProblems) in
            stand
        }
        return text
    }

    // MARK: Text

    static func clusterText(nodes: [BootstrapNode], clusterID: String, source: String) -> String {
        var lines = [
            "# netheal-cluster: cluster file of `\(clusterID)`, generated by `netheal-cluster fleet init` from \(source).",
            "#",
            "# Every node holds a byte-identical copy as /etc/netheal/cluster.yaml (the agents compare a",
            "# digest of it in their views). `public_key: \(pendingKey)` marks a key not collected yet: each",
            "# node runs `netheal-cluster keygen --out /etc/netheal/node.key`, the operator runs",
            "# `netheal-cluster fleet add-key DIR NAME ed25519:…`. Keys, defaults: docs/configuration.md.",
            "",
            "cluster_id: \(yamlScalar(clusterID))",
            "",
            "# Member order is the wire index: append new members at the end (docs/deployment.md).",
            "members:",
        ]
        for node in nodes {
            lines.append("  - name: \(yamlName(node.name))")
            lines.append("    addresses: [" + node.addresses.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            lines.append("    public_key: \(pendingKey)")
            if let domain = node.failureDomain { lines.append("    failure_domain: \(yamlName(domain))") }
        }
        lines += [
            "",
            "# Protocol settings, shared by every node; every key is optional (defaults: docs/configuration.md).",
            "protocol:",
            "  # Fleet-wide off switch: true makes every node only log and show \"would heal\".",
            "  dry_run: false",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func nodeText(name: String, defaults: BootstrapDefaults) -> String {
        let targets = [NodeSettings.ProbeTarget.gateway] + defaults.anchors
        var lines = [
            "# netheal-cluster: node file of `\(name)` (install as /etc/netheal/node.yaml on that node).",
            "# Generated by `netheal-cluster fleet init`; keys and defaults: docs/configuration.md.",
            "",
            "# The shared cluster file, next to this file.",
            "cluster_file: \(clusterFileName)",
            "member: \(yamlName(name))",
            "# Created on this node (never copied): netheal-cluster keygen --out \(defaults.secretKeyFile)",
            "secret_key_file: \(yamlScalar(defaults.secretKeyFile))",
            "",
            "# The interface this agent may cycle; probes are bound to it.",
            "interface: \(yamlScalar(defaults.interface))",
            "probe_targets:",
        ]
        lines += targets.map { "  - \($0)" }
        lines += [
            "heal_action:",
            "  kind: \(defaults.healAction.rawValue)",
            "  timeout: 30s",
            "",
            "state_dir: /var/lib/netheal",
            "control_socket: /run/netheal/control.sock",
            "# Members of this group may run `netheal-cluster status` (the group must exist):",
            "# control_group: netheal",
            "# Prometheus endpoint, loopback only:",
            "# metrics_listen: 127.0.0.1:9465",
            "",
            "# `dry-run`: decide, log and show \"would heal\", never touch the interface. Keep it for the",
            "# first week, then switch node by node to `heal` (docs/deployment.md).",
            "mode: \(defaults.mode.rawValue)",
            "log_level: info",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// A name (letters, digits, `.`, `_`, `-`) as a YAML scalar; quoted only where YAML would read null.
    static func yamlName(_ name: String) -> String {
        ["null", "Null", "NULL"].contains(name) ? "\"\(name)\"" : name
    }

    /// `text` as a YAML scalar: plain when it is a simple word or path, double-quoted otherwise.
    static func yamlScalar(_ text: String) -> String {
        let simple =
            !text.isEmpty && text.first != "-" && !["null", "Null", "NULL", "~"].contains(text)
            && text.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._/-".unicodeScalars.contains($0))
            }
        return simple ? text : yamlQuoted(text)
    }

    /// A YAML double-quoted string.
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for c in text {
            if c == "\\" || c == "\"" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}
