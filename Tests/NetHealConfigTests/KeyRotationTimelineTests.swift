import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// The key-rotation procedure of docs/key-rotation.md, played on a fleet of five nodes with real keys
/// and real cluster files (parsed by the config layer), each node holding its own copy, decoder and
/// watermarks. At every step of the procedure, every datagram between any two nodes is accepted,
/// whichever cluster-file version each of them holds.
@Suite("key rotation timeline")
struct KeyRotationTimelineTests {
    static let size = 5
    /// The member whose key is rotated.
    static let rotating = 2

    /// The three cluster files of the procedure: v1 lists the old key, v2 both, v3 the new one.
    struct Files {
        let v1: ClusterConfiguration
        let v2: ClusterConfiguration
        let v3: ClusterConfiguration
        let oldSigner: Ed25519Signer
        let newSigner: Ed25519Signer

        init() throws {
            oldSigner = try Ed25519Signer(seed: TestFleet.seed(for: KeyRotationTimelineTests.rotating))
            newSigner = try Ed25519Signer(seed: TestFleet.seed(for: 1_000 + KeyRotationTimelineTests.rotating))
            v1 = try Self.file(rotatingKeys: "public_key: \(PublicKeyText.format(oldSigner.publicKey))")
            v2 = try Self.file(
                rotatingKeys: "public_key: \(PublicKeyText.format(oldSigner.publicKey)), next_public_key: \(PublicKeyText.format(newSigner.publicKey))")
            v3 = try Self.file(rotatingKeys: "public_key: \(PublicKeyText.format(newSigner.publicKey))")
        }

        static func file(rotatingKeys: String) throws -> ClusterConfiguration {
            var text = "cluster_id: rotation-lab\nmembers:\n"
            for i in 0..<KeyRotationTimelineTests.size {
                let keys = i == KeyRotationTimelineTests.rotating
                    ? rotatingKeys : "public_key: \(PublicKeyText.format(try Ed25519Signer(seed: TestFleet.seed(for: i)).publicKey))"
                text += "  - {name: n\(i), addresses: [\"198.18.0.\(i + 1):7474\"], \(keys)}\n"
            }
            return try ConfigLoader.parseCluster(Array(text.utf8), path: "cluster.yaml")
        }
    }

    /// The first 8 bytes of the BLAKE2b-256 digest of the file, as views carry it.
    static func digest(_ file: ClusterConfiguration) throws -> UInt64 {
        try Sodium.blake2b(file.fileBytes[...], length: 32).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// One agent, reduced to what the wire needs: its cluster file, decoder, watermarks, key and counters.
    struct Node {
        let index: Int
        var file: ClusterConfiguration
        var decoder: DatagramDecoder
        var watermarks: ViewWatermarks
        var signer: Ed25519Signer
        var incarnation: UInt64 = 1
        var sequence: UInt64 = 0
        /// The latest accepted view of the rotating member (relayed onward by everyone else).
        var latestOfRotating: SignedView?
        /// The config digest last seen in each member's own view.
        var digestOf: [Int: UInt64] = [:]

        init(index: Int, file: ClusterConfiguration, signer: Ed25519Signer) {
            self.index = index
            self.file = file
            self.signer = signer
            decoder = DatagramDecoder(roster: file.roster, verifier: Ed25519Verifier())
            watermarks = ViewWatermarks(memberCount: file.members.count)
            watermarks.pin(MemberIndex(index))
        }

        /// SIGHUP with a new cluster file (same members): new roster, watermarks kept.
        mutating func reload(_ newFile: ClusterConfiguration) {
            file = newFile
            decoder = DatagramDecoder(roster: newFile.roster, verifier: Ed25519Verifier())
        }

        /// A datagram to one peer: own view (new sequence, own file's digest), relaying the rotating
        /// member's latest view when this node holds one.
        mutating func datagram() throws -> [UInt8] {
            sequence += 1
            let n = file.members.count
            let view = ReachabilityView(
                origin: MemberIndex(index), incarnation: incarnation, sequence: sequence, originTimeMillis: 1_763_683_200_000,
                configDigest: try KeyRotationTimelineTests.digest(file), upstream: .up, decision: .healthy,
                reach: (0..<n).map { $0 == index ? .isSelf : .reachable })
            let relayed = latestOfRotating.map { [$0] } ?? []
            return try DatagramEncoder(roster: file.roster).encode(view, signer: signer, relaying: relayed).bytes
        }

        mutating func receive(_ bytes: [UInt8]) -> WireError? {
            switch decoder.decode(bytes, watermarks: &watermarks) {
            case .failure(let error): return error
            case .success(let decoded):
                digestOf[decoded.sender.origin.int] = decoded.sender.view.configDigest
                if let r = decoded.views.first(where: { $0.origin.int == KeyRotationTimelineTests.rotating }) { latestOfRotating = r }
                return nil
            }
        }
    }

    /// Every node sends one datagram to every other node (in index order); returns every rejection.
    static func round(_ nodes: inout [Node]) throws -> [(from: Int, to: Int, error: WireError)] {
        var rejections: [(from: Int, to: Int, error: WireError)] = []
        for from in nodes.indices {
            for to in nodes.indices where to != from {
                let bytes = try nodes[from].datagram()
                if let error = nodes[to].receive(bytes) { rejections.append((from, to, error)) }
            }
        }
        return rejections
    }

    /// A permutation of 0..<size drawn from `seed`.
    static func order(seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<size).shuffled(using: &rng)
    }

    static func fleet(_ files: Files) throws -> [Node] {
        try (0..<size).map { i in
            Node(index: i, file: files.v1, signer: i == rotating ? files.oldSigner : try Ed25519Signer(seed: TestFleet.seed(for: i)))
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func noViewIsRejectedAtAnyStep(seed: UInt64) throws {
        let files = try Files()
        var nodes = try Self.fleet(files)
        let digests = (v1: try Self.digest(files.v1), v2: try Self.digest(files.v2), v3: try Self.digest(files.v3))
        #expect(Set([digests.v1, digests.v2, digests.v3]).count == 3)
        // Before: everyone on v1, the rotating node on its old key.
        let before = try Self.round(&nodes)
        #expect(before.isEmpty, "\(before)")

        // Step 1 happened on the rotating node (keygen --out node.key.new): files.newSigner.
        // Step 2: v2 (both keys) reaches the nodes one by one; the rotating node keeps its old key.
        var updated: Set<Int> = []
        for i in Self.order(seed: seed) {
            nodes[i].reload(files.v2)
            updated.insert(i)
            let rejections = try Self.round(&nodes)
            #expect(rejections.isEmpty, "step 2, v2 on \(updated.sorted()): \(rejections)")
            // What the operator sees: the digest in each node's views tells who runs v2 already.
            for observer in nodes {
                let onV2 = Set(observer.digestOf.filter { $0.value == digests.v2 }.keys).union(observer.file == files.v2 ? [observer.index] : [])
                #expect(onV2 == updated, "node \(observer.index) sees v2 on \(onV2.sorted()), expected \(updated.sorted())")
            }
        }
        // Step 2 is complete: every node reports digest v2 from every peer.
        #expect(nodes.allSatisfy { node in node.digestOf.values.allSatisfy { $0 == digests.v2 } })

        // Step 3: the rotating node restarts with the new key (secret_key_file -> node.key.new).
        nodes[Self.rotating].signer = files.newSigner
        nodes[Self.rotating].incarnation += 1
        nodes[Self.rotating].sequence = 0
        var rejections = try Self.round(&nodes)
        #expect(rejections.isEmpty, "step 3: \(rejections)")
        #expect(nodes.allSatisfy { $0.index == Self.rotating || $0.watermarks[MemberIndex(Self.rotating)]?.incarnation == 2 })

        // Step 4: v3 (new key only) reaches the nodes one by one.
        updated = []
        for i in Self.order(seed: seed &+ 1_000) {
            nodes[i].reload(files.v3)
            updated.insert(i)
            rejections = try Self.round(&nodes)
            #expect(rejections.isEmpty, "step 4, v3 on \(updated.sorted()): \(rejections)")
        }
        #expect(nodes.allSatisfy { node in node.digestOf.values.allSatisfy { $0 == digests.v3 } })
    }

    /// Why the order matters: switching keys while a node still holds v1 makes that node reject the
    /// rotating node's views, and also every datagram that relays one of them (one bad signature
    /// rejects the whole datagram).
    @Test func switchingBeforeStep2CompletesIsRejectedByTheStragglers() throws {
        let files = try Files()
        var nodes = try Self.fleet(files)
        let straggler = Self.rotating == 0 ? 1 : 0
        for i in nodes.indices where i != straggler { nodes[i].reload(files.v2) }
        let before = try Self.round(&nodes)
        #expect(before.isEmpty, "\(before)")
        nodes[Self.rotating].signer = files.newSigner
        nodes[Self.rotating].incarnation += 1
        let rejections = try Self.round(&nodes)
        #expect(!rejections.isEmpty)
        #expect(rejections.allSatisfy { $0.to == straggler && $0.error == .badSignature(origin: MemberIndex(Self.rotating)) })
        #expect(rejections.contains { $0.from == Self.rotating })
        #expect(rejections.contains { $0.from != Self.rotating }, "relayed new-key views also reject the relayer's datagram")
    }

    /// The other ordering mistake: listing only the new key (v3) while the node still signs with the old one.
    @Test func removingTheOldKeyBeforeStep3IsRejected() throws {
        let files = try Files()
        var nodes = try Self.fleet(files)
        for i in nodes.indices { nodes[i].reload(files.v2) }
        let before = try Self.round(&nodes)
        #expect(before.isEmpty, "\(before)")
        let early = Self.rotating == 4 ? 3 : 4
        nodes[early].reload(files.v3)
        let rejections = try Self.round(&nodes)
        #expect(rejections.contains { $0.from == Self.rotating && $0.to == early })
        #expect(rejections.allSatisfy { $0.to == early && $0.error == .badSignature(origin: MemberIndex(Self.rotating)) })
    }
}
