import NetHealCore

/// The validated content of a cluster file, shared by every node of a cluster.
public struct ClusterConfiguration: Hashable, Sendable {
    /// One member as the cluster file describes it.
    public struct Member: Hashable, Sendable {
        /// Unique name, e.g. `n1`.
        public var name: String
        /// Gossip addresses in file order (at least one; e.g. a data and a management address).
        public var addresses: [HostPort]
        /// Ed25519 public key, 32 bytes (`public_key`).
        public var publicKey: [UInt8]
        /// Optional failure domain (e.g. a rack name); nil when not given.
        public var failureDomain: String?
        /// The second key accepted during a key rotation (`next_public_key`), 32 bytes, different from
        /// `publicKey` and from every other member's keys; nil (the default) outside a rotation.
        public var nextPublicKey: [UInt8]?

        public init(
            name: String, addresses: [HostPort], publicKey: [UInt8], failureDomain: String?, nextPublicKey: [UInt8]? = nil
        ) {
            self.name = name
            self.addresses = addresses
            self.publicKey = publicKey
            self.failureDomain = failureDomain
            self.nextPublicKey = nextPublicKey
        }

        /// Which of this member's keys `key` is, or nil when it is neither.
        public func keySlot(of key: [UInt8]) -> MemberKeySlot? {
            if key == publicKey { return .current }
            if key == nextPublicKey { return .next }
            return nil
        }
    }

    /// The file it was loaded from (as given to the loader).
    public var path: String
    /// The cluster id (1 to 64 bytes).
    public var clusterID: String
    /// Members in file order; a member's position is its `MemberIndex`.
    public var members: [Member]
    /// The `protocol:` section, defaults filled in.
    public var settings: HealSettings
    /// The exact bytes of the file (the agent puts a BLAKE2b digest of them in its views, so nodes
    /// with diverging copies of the cluster file notice).
    public var fileBytes: [UInt8]

    public init(path: String, clusterID: String, members: [Member], settings: HealSettings, fileBytes: [UInt8]) {
        self.path = path
        self.clusterID = clusterID
        self.members = members
        self.settings = settings
        self.fileBytes = fileBytes
    }

    /// The roster the wire decoder and the decision core use.
    public var roster: ClusterRoster {
        ClusterRoster(
            clusterID: clusterID,
            members: members.map {
                .init(name: $0.name, publicKey: $0.publicKey, nextPublicKey: $0.nextPublicKey, failureDomain: $0.failureDomain)
            })
    }

    /// Each member's gossip addresses, in member order (index = `MemberIndex.int`).
    public var addresses: [[HostPort]] { members.map(\.addresses) }

    /// The index of the member named `name`, if any.
    public func index(named name: String) -> MemberIndex? {
        members.firstIndex { $0.name == name }.map { MemberIndex($0) }
    }
}

/// Which of a member's keys a secret key belongs to (docs/key-rotation.md).
public enum MemberKeySlot: String, Hashable, Sendable {
    /// The member's `public_key`.
    case current = "public_key"
    /// The member's `next_public_key` (a key rotation in progress).
    case next = "next_public_key"
}

/// Limits of the cluster file.
public enum ClusterLimits {
    /// At most this many members: member indexes and the member count are 16-bit on the wire
    /// (docs/protocol.md). Clusters larger than `neighborhood_size + 1` run in neighbourhood mode, whose
    /// views list only neighbours and so fit one datagram at any size (docs/scaling.md).
    public static let maximumMembers = 65_535
    /// At most this many gossip addresses per member.
    public static let maximumAddressesPerMember = 4
    /// `cluster_id` length in bytes of UTF-8.
    public static let clusterIDBytes = 1...64
    /// Member names and failure domains: 1 to 63 characters of `A-Z a-z 0-9 . _ -`.
    public static let nameLength = 1...63
}
