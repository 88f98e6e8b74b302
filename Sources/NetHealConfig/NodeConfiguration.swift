import NetHealCore

/// Everything one node runs with: its node file joined with the cluster file it names, validated
/// together (the member exists, …).
public struct NodeConfiguration: Hashable, Sendable {
    /// The cluster file's content.
    public var cluster: ClusterConfiguration
    /// The node file's content.
    public var node: NodeSettings
    /// This node's position in the member list.
    public var memberIndex: MemberIndex

    public init(cluster: ClusterConfiguration, node: NodeSettings, memberIndex: MemberIndex) {
        self.cluster = cluster
        self.node = node
        self.memberIndex = memberIndex
    }

    /// The roster (cluster id, member names and public keys) for the wire decoder and the core.
    public var roster: ClusterRoster { cluster.roster }

    /// The settings this node decides with: the cluster's `protocol:` section, with `dryRun` also
    /// set when this node's `mode` is `dry-run` (a fleet-wide `dry_run: true` cannot be overridden per node).
    public var settings: HealSettings {
        var settings = cluster.settings
        if node.mode == .dryRun { settings.dryRun = true }
        return settings
    }

    /// Every member's gossip addresses, in member order (index = `MemberIndex.int`).
    public var addresses: [[HostPort]] { cluster.addresses }

    /// This node's own gossip addresses (the agent binds to these ports).
    public var ownAddresses: [HostPort] { cluster.members[memberIndex.int].addresses }

    /// The exact bytes of the cluster file (for its BLAKE2b digest in views).
    public var clusterFileBytes: [UInt8] { cluster.fileBytes }
}

/// Which of the two configuration files a file is, judged by its top-level keys.
public enum ConfigFileKind: String, Hashable, Sendable {
    /// Shared by every node: `cluster_id`, `members`, `protocol`.
    case cluster
    /// One per node: `member`, `cluster_file`, `interface`, ….
    case node
}

/// A loaded file of either kind (for `config check`).
public enum LoadedConfiguration: Hashable, Sendable {
    case cluster(ClusterConfiguration)
    case node(NodeConfiguration)
}
