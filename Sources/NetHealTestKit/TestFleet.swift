import NetHealCore
import NetHealSodium
import NetHealWire

/// A deterministic fleet for tests: `size` members named "n0", "n1", …, each with an Ed25519 key pair
/// derived from a fixed seed, and the `ClusterRoster` that lists them.
///
/// Seeds are `TestFleet.seed(for:)`: the same index always gives the same key, in every test and in the
/// test vectors of docs/protocol.md.
public struct TestFleet: Sendable {
    /// The cluster id of the roster. Default "test-cluster".
    public let clusterID: String
    /// The 32-byte secret key seed of each member, by index.
    public let seeds: [[UInt8]]
    /// A libsodium signer per member, by index.
    public let signers: [Ed25519Signer]
    /// The roster: member i is named "n\(i)" with the public key of `signers[i]`.
    public let roster: ClusterRoster

    /// A fleet of `size` members (1 ... 65,535).
    public init(size: Int, clusterID: String = "test-cluster") throws {
        precondition(size >= 1 && size <= Int(UInt16.max), "fleet size out of range: \(size)")
        try self.init(seeds: (0..<size).map(Self.seed(for:)), clusterID: clusterID)
    }

    /// A fleet whose member i has secret key seed `seeds[i]` (32 bytes each).
    public init(seeds: [[UInt8]], clusterID: String) throws {
        self.clusterID = clusterID
        self.seeds = seeds
        signers = try seeds.map { try Ed25519Signer(seed: $0) }
        roster = ClusterRoster(
            clusterID: clusterID,
            members: signers.enumerated().map { .init(name: "n\($0.offset)", publicKey: $0.element.publicKey) })
    }

    /// Number of members.
    public var size: Int { seeds.count }

    /// The seed of member `index`: four `SplitMix64(seed: index).next()` values, each big-endian.
    public static func seed(for index: Int) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(index))
        var seed: [UInt8] = []
        seed.reserveCapacity(32)
        for _ in 0..<4 {
            let word = rng.next()
            for shift in stride(from: 56, through: 0, by: -8) {
                seed.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return seed
    }

    /// An encoder for this fleet's roster.
    public var encoder: DatagramEncoder { DatagramEncoder(roster: roster) }

    /// A decoder for this fleet's roster with libsodium verification.
    public var decoder: DatagramDecoder { DatagramDecoder(roster: roster, verifier: Ed25519Verifier()) }

    /// A valid view of member `index`; `reach` defaults to every other member reachable.
    public func view(
        of index: Int, incarnation: UInt64 = 1, sequence: UInt64 = 1, originTimeMillis: UInt64 = 1_700_000_000_000,
        configDigest: UInt64 = 0x0123_4567_89AB_CDEF, upstream: UpstreamHealth = .up,
        decision: DecisionState = .healthy, reach: [Reach]? = nil
    ) -> ReachabilityView {
        ReachabilityView(
            origin: MemberIndex(index), incarnation: incarnation, sequence: sequence,
            originTimeMillis: originTimeMillis, configDigest: configDigest, upstream: upstream, decision: decision,
            reach: reach ?? (0..<size).map { $0 == index ? .isSelf : .reachable })
    }

    /// A valid view of member `index` with every other field drawn from `rng` (other slots: unknown,
    /// reachable or unreachable).
    public func randomView(
        of index: Int, using rng: inout SplitMix64, incarnation: UInt64 = 1, sequence: UInt64 = 1
    ) -> ReachabilityView {
        let others: [Reach] = [.unknown, .reachable, .unreachable]
        let reach = (0..<size).map { $0 == index ? Reach.isSelf : others[Int(rng.next() % 3)] }
        return view(
            of: index, incarnation: incarnation, sequence: sequence, originTimeMillis: rng.next() >> 20,
            configDigest: rng.next(), upstream: UpstreamHealth.allCases[Int(rng.next() % 3)],
            decision: DecisionState.allCases[Int(rng.next() % 8)], reach: reach)
    }

    /// `view` signed by its origin's key.
    public func signed(_ view: ReachabilityView) throws -> SignedView {
        try encoder.sign(view, with: signers[view.origin.int])
    }

    /// A datagram from the origin of `view`, relaying `relayed`.
    public func datagram(_ view: ReachabilityView, relaying relayed: [SignedView] = []) throws -> EncodedDatagram {
        try encoder.encode(view, signer: signers[view.origin.int], relaying: relayed)
    }

    /// Fresh watermarks sized for this fleet.
    public var emptyWatermarks: ViewWatermarks { ViewWatermarks(memberCount: size) }
}
