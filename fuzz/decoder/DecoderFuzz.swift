// libFuzzer target: the datagram decoder with real libsodium verification.
//
// Invariant checked on every input: a view the decoder ACCEPTS must be byte-identical to one of the
// genuine views this harness signed for its seed corpus. The only signing keys are the harness's own,
// and it signs nothing else, so any other accepted view would be a forgery getting in: the harness then
// aborts (libFuzzer saves the input as a crash). Re-combinations of genuine views (libFuzzer's
// cross-over of two seed datagrams, a dropped relayed view with a fixed count) may be accepted: they are
// counted separately and are legitimate (each view is still exactly what its origin signed).
//
// Every input is decoded against three rosters (3, 10 and 100 members, as in the seed corpus) twice:
// with empty watermarks (so genuine views are news) and with watermarks at (1, 2) for every member
// (so stale relayed views take the "skipped unverified" path).
//
// Environment: NETHEAL_FUZZ_SEED_DIR=dir writes the seed corpus there at start;
// NETHEAL_FUZZ_STATS=file writes the counters there at exit (key=value lines);
// NETHEAL_FUZZ_BROKEN_VERIFIER=1 swaps in a verifier that checks only the first signature byte
// (a self-test of the oracle: the run must then fail within seconds).
import NetHealCore
import NetHealSodium
import NetHealWire

#if canImport(Glibc)
import Glibc
#endif

/// One roster with its keys, decoder and the genuine datagrams signed for the seed corpus.
struct FuzzFleet {
    let signers: [Ed25519Signer]
    let roster: ClusterRoster
    let decoder: DatagramDecoder
    var datagrams: [[UInt8]] = []

    init(size: Int, clusterID: String) {
        signers = (0..<size).map { try! Ed25519Signer(seed: FuzzFleet.seed(for: $0)) }
        roster = ClusterRoster(
            clusterID: clusterID,
            members: signers.enumerated().map { .init(name: "n\($0.offset)", publicKey: $0.element.publicKey) })
        decoder = getenv("NETHEAL_FUZZ_BROKEN_VERIFIER") == nil
            ? DatagramDecoder(roster: roster, verifier: Ed25519Verifier())
            : DatagramDecoder(roster: roster, verifier: BrokenVerifier())
    }

    /// The seed of member `index` (the same derivation as NetHealTestKit's `TestFleet`).
    static func seed(for index: Int) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(index))
        var seed: [UInt8] = []
        for _ in 0..<4 {
            let word = rng.next()
            for shift in stride(from: 56, through: 0, by: -8) { seed.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return seed
    }

    func view(of origin: Int, sequence: UInt64, rng: inout SplitMix64) -> ReachabilityView {
        let others: [Reach] = [.unknown, .reachable, .unreachable]
        let reach = (0..<roster.count).map { $0 == origin ? Reach.isSelf : others[Int(rng.next() % 3)] }
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 1, sequence: sequence, originTimeMillis: 1_700_000_000_000 + sequence,
            configDigest: 0x0123_4567_89AB_CDEF, upstream: UpstreamHealth.allCases[Int(rng.next() % 3)],
            decision: DecisionState.allCases[Int(rng.next() % 8)], reach: reach)
    }

    /// Genuine datagrams with 1, 2 and 3 views, at sequences 1 and 3 (3 is newer than the (1, 2) watermarks).
    mutating func makeSeeds() {
        let encoder = DatagramEncoder(roster: roster)
        var rng = SplitMix64(seed: UInt64(roster.count))
        for sequence: UInt64 in [1, 3] {
            for viewCount in 1...3 {
                let sender = (viewCount + Int(sequence)) % roster.count
                let relayed = (1..<viewCount).map { k in
                    try! encoder.sign(view(of: (sender + k) % roster.count, sequence: sequence, rng: &rng),
                                      with: signers[(sender + k) % roster.count])
                }
                let own = view(of: sender, sequence: sequence, rng: &rng)
                datagrams.append(try! encoder.encode(own, signer: signers[sender], relaying: relayed).bytes)
            }
        }
    }
}

/// The oracle's self-test: "verifies" by comparing the signature's first byte with the genuine one's
/// only (the shape of a truncated-comparison bug). Never used unless NETHEAL_FUZZ_BROKEN_VERIFIER is set.
struct BrokenVerifier: SignatureVerifier {
    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        guard let first = signature.first else { return false }
        return Ed25519Verifier().verify(signature: signature, message: message, publicKey: publicKey) || first & 0x0F == 0x0F
    }
}

/// Counters reported at exit.
struct FuzzStats {
    var inputs = 0
    var decodeAttempts = 0
    var acceptedDatagrams = 0
    var acceptedViews = 0
    var acceptedFromNonSeedInput = 0
    var novelAcceptedViews = 0
}

nonisolated(unsafe) var fleets: [FuzzFleet] = []
nonisolated(unsafe) var genuineViews = Set<[UInt8]>()
nonisolated(unsafe) var seedInputs = Set<[UInt8]>()
nonisolated(unsafe) var stats = FuzzStats()
nonisolated(unsafe) var statsPath: String?

func writeStats() {
    guard let path = statsPath, let file = fopen(path, "w") else { return }
    let text = """
        inputs=\(stats.inputs)
        decode_attempts=\(stats.decodeAttempts)
        accepted_datagrams=\(stats.acceptedDatagrams)
        accepted_views=\(stats.acceptedViews)
        accepted_views_from_mutated_input_recombined_genuine=\(stats.acceptedFromNonSeedInput)
        novel_accepted_views=\(stats.novelAcceptedViews)

        """
    fputs(text, file)
    fclose(file)
}

func setUp() {
    try! Sodium.ensureInitialized()
    for (size, id) in [(3, "fuzz-a"), (10, "test-cluster"), (100, "fuzz-fleet-100")] {
        var fleet = FuzzFleet(size: size, clusterID: id)
        fleet.makeSeeds()
        for datagram in fleet.datagrams {
            seedInputs.insert(datagram)
            var marks = ViewWatermarks(memberCount: size)
            guard case .success(let decoded) = fleet.decoder.decode(datagram, watermarks: &marks) else {
                fatalError("a genuine seed datagram was rejected")
            }
            for view in decoded.views { genuineViews.insert(view.bytes) }
        }
        fleets.append(fleet)
    }
    // An outsider: a validly signed view of a key that is not in any roster (never to be accepted).
    let outsider = fleets[1]
    let stranger = try! Ed25519Signer(seed: [UInt8](repeating: 0xA5, count: 32))
    var rng = SplitMix64(seed: 42)
    let foreignRoster = ClusterRoster(
        clusterID: "test-cluster",
        members: outsider.roster.members.enumerated().map { $0.offset == 4 ? .init(name: "n4", publicKey: stranger.publicKey) : $0.element })
    let forged = try! DatagramEncoder(roster: foreignRoster).encode(outsider.view(of: 4, sequence: 7, rng: &rng), signer: stranger).bytes
    seedInputs.insert(forged)

    statsPath = getenv("NETHEAL_FUZZ_STATS").map { String(cString: $0) }
    atexit { writeStats() }
    if let dir = getenv("NETHEAL_FUZZ_SEED_DIR").map({ String(cString: $0) }) {
        let all = fleets.flatMap(\.datagrams) + [forged]
        for (i, bytes) in all.enumerated() {
            let name = "\(dir)/seed-\(i < 10 ? "0" : "")\(i)"
            guard let file = fopen(name, "wb") else { fatalError("cannot write \(name)") }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    setUp()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    stats.inputs += 1
    let isSeed = seedInputs.contains(bytes)
    for fleet in fleets {
        for stale in [false, true] {
            var marks = ViewWatermarks(memberCount: fleet.roster.count)
            if stale {
                for i in 0..<fleet.roster.count { marks.advance(MemberIndex(i), to: ViewVersion(incarnation: 1, sequence: 2)) }
            }
            let before = marks
            stats.decodeAttempts += 1
            switch fleet.decoder.decode(bytes, watermarks: &marks) {
            case .failure:
                if marks != before { fatalError("watermarks changed on a rejected datagram") }
            case .success(let decoded):
                stats.acceptedDatagrams += 1
                for view in decoded.views {
                    stats.acceptedViews += 1
                    if !isSeed { stats.acceptedFromNonSeedInput += 1 }
                    if !genuineViews.contains(view.bytes) {
                        stats.novelAcceptedViews += 1
                        writeStats()
                        fputs("NOVEL VIEW ACCEPTED from origin \(view.origin) version \(view.version)\n", stderr)
                        abort()
                    }
                    if !(marks[view.origin].map { $0 >= view.version } ?? false) {
                        fatalError("watermark not advanced for an accepted view")
                    }
                }
            }
        }
    }
    return 0
}
