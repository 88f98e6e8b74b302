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
    ///
    /// The escalation ladder also comes from the node file: `escalationSteps` is 1 plus the number of
    /// `heal_action.escalation` steps, and `escalationAfterFailures` is `escalate_after` (0, i.e.
    /// off, without escalation steps).
    public var settings: HealSettings {
        var settings = cluster.settings
        if node.mode == .dryRun { settings.dryRun = true }
        settings.escalationSteps = node.healAction.steps.count
        settings.escalationAfterFailures = node.healAction.escalation.isEmpty ? 0 : node.healAction.escalateAfterFailures
        return settings
    }

    /// Every member's gossip addresses, in member order (index = `MemberIndex.int`).
    public var addresses: [[HostPort]] { cluster.addresses }

    /// This node's own gossip addresses (the agent binds to these ports).
    public var ownAddresses: [HostPort] { cluster.members[memberIndex.int].addresses }

    /// The exact bytes of the cluster file (for its BLAKE2b digest in views).
    public var clusterFileBytes: [UInt8] { cluster.fileBytes }
}

extension NodeConfiguration {
    /// Loads this node's secret key file (`node.secretKeyFile`, with the permission checks of
    /// `SecretKeyFile.load`) and checks that it belongs to this member: `derivePublicKey` (e.g.
    /// `{ try Ed25519Signer(seed: $0).publicKey }`; this layer does not link libsodium) must give
    /// the member's `public_key`. Returns the 32-byte seed.
    public func loadSecretKey(derivePublicKey: ([UInt8]) throws -> [UInt8]) throws(SecretKeyError) -> [UInt8] {
        let path = node.secretKeyFile
        let seed = try SecretKeyFile.load(path: path)
        let expected = cluster.members[memberIndex.int].publicKey
        let actual: [UInt8]
        do {
            actual = try derivePublicKey(seed)
        } catch {
            throw SecretKeyError(
                reason: .malformed,
                problem: ConfigProblem(file: path, line: nil, column: nil, field: "", message: "cannot derive the public key from the seed: \(error)"))
        }
        guard actual == expected else {
            throw SecretKeyError(
                reason: .mismatch,
                problem: ConfigProblem(
                    file: path, line: nil, column: nil, field: "",
                    message: "this key's public key is \(PublicKeyText.format(actual)), but member `\(node.member)` in \(cluster.path) has \(PublicKeyText.format(expected)) — put this node's key in the cluster file (`netheal-cluster keygen --show \(path)` prints it), or point secret_key_file at the right key"))
        }
        return seed
    }
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
