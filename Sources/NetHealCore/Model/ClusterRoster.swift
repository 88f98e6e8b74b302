/// The members of a cluster as every node knows them from the shared cluster file.
///
/// This is what the wire decoder needs to verify a view (cluster id, member count, public keys) and
/// what the decision core needs to name members. Built by `NetHealConfig`, or directly in tests.
public struct ClusterRoster: Hashable, Sendable {
    /// One member of the cluster.
    public struct Member: Hashable, Sendable {
        /// Unique name, e.g. "n1" (the cluster file's `name`).
        public var name: String
        /// Ed25519 public key, 32 bytes (the cluster file's `public_key`).
        public var publicKey: [UInt8]
        /// A second accepted Ed25519 public key while this member's key is being rotated (the cluster
        /// file's `next_public_key`, 32 bytes, different from `publicKey`); nil outside a rotation.
        /// Default nil. A view of this member is accepted when it verifies under either key
        /// (docs/key-rotation.md).
        public var nextPublicKey: [UInt8]?
        /// The failure domain (rack, switch, site) the cluster file gives, or nil (the default). Large
        /// clusters give every member neighbours in its own domain (docs/scaling.md).
        public var failureDomain: String?

        public init(name: String, publicKey: [UInt8], nextPublicKey: [UInt8]? = nil, failureDomain: String? = nil) {
            self.name = name
            self.publicKey = publicKey
            self.nextPublicKey = nextPublicKey
            self.failureDomain = failureDomain
        }

        /// The keys a view of this member may be signed with, current first (one or two).
        public var acceptedKeys: [[UInt8]] {
            guard let nextPublicKey else { return [publicKey] }
            return [publicKey, nextPublicKey]
        }

        /// True when `key` is one of `acceptedKeys`.
        public func accepts(_ key: [UInt8]) -> Bool { key == publicKey || key == nextPublicKey }
    }

    /// The cluster id from the cluster file (1 to 64 bytes of UTF-8); views of another cluster are rejected.
    public var clusterID: String
    /// Members in cluster-file order; a member's position is its `MemberIndex`.
    public var members: [Member]

    public init(clusterID: String, members: [Member]) {
        self.clusterID = clusterID
        self.members = members
    }

    /// Number of members. Inlinable: the wire layer and the core ask for it per view.
    @inlinable
    public var count: Int { members.count }

    /// All member indices in order.
    public var indices: [MemberIndex] { members.indices.map { MemberIndex($0) } }

    /// The member at `index`, or nil when out of range.
    public func member(_ index: MemberIndex) -> Member? {
        index.int < members.count ? members[index.int] : nil
    }

    /// The name of the member at `index` ("#7" when out of range).
    public func name(_ index: MemberIndex) -> String { member(index)?.name ?? index.description }

    /// The index of the member named `name`, if any (linear scan; rosters are small and this is not hot).
    public func index(named name: String) -> MemberIndex? {
        members.firstIndex { $0.name == name }.map { MemberIndex($0) }
    }
}
