import CSodium
import NetHealCore
import NetHealSodium
import NetHealWire

/// Wire figures: encode, sign, decode and verify one view of `n` members, each next to raw libsodium on
/// the same bytes (the anchor), measured alternately in the same run.
struct WireBench {
    let n: Int
    let roster: ClusterRoster
    let signer: Ed25519Signer
    let secretKey: [UInt8]
    let view: ReachabilityView
    let signed: SignedView
    let datagram: [UInt8]
    /// The signed part of `signed.bytes` and its signature, for the raw calls.
    let message: [UInt8]
    let signature: [UInt8]

    init(members n: Int) throws {
        self.n = n
        let seeds = (0..<n).map(BenchKeys.seed(for:))
        let pair = try Sodium.keyPair(seed: seeds[0])
        signer = try Ed25519Signer(seed: seeds[0])
        secretKey = pair.secretKey
        var members = [ClusterRoster.Member(name: "n0", publicKey: pair.publicKey)]
        for i in 1..<n { members.append(.init(name: "n\(i)", publicKey: try Sodium.keyPair(seed: seeds[i]).publicKey)) }
        roster = ClusterRoster(clusterID: "bench-fleet", members: members)
        var rng = SplitMix64(seed: UInt64(n))
        let others: [Reach] = [.unknown, .reachable, .unreachable]
        view = ReachabilityView(
            origin: MemberIndex(0), incarnation: 3, sequence: 1_000, originTimeMillis: 1_700_000_000_000,
            configDigest: 0x0123_4567_89AB_CDEF, upstream: .up, decision: .healthy,
            reach: (0..<n).map { $0 == 0 ? .isSelf : others[Int(rng.next() % 3)] })
        let encoder = DatagramEncoder(roster: roster)
        signed = try encoder.sign(view, with: signer)
        datagram = try encoder.encode(view, signer: signer).bytes
        message = Array(signed.bytes.dropLast(WireFormat.signatureBytes))
        signature = Array(signed.bytes.suffix(WireFormat.signatureBytes))
    }

    func rows(_ s: BenchSettings) throws -> [BenchRow] {
        let encoder = DatagramEncoder(roster: roster)
        let decoder = DatagramDecoder(roster: roster, verifier: Ed25519Verifier())
        let structural = DatagramDecoder(roster: roster, verifier: AcceptingVerifier())
        let stub = StubSigner(publicKey: signer.publicKey)
        let size = membersLabel(n) + " (\(signed.bytes.count) B)"
        var sig = [UInt8](repeating: 0, count: 64)

        // Sanity: every path does what it claims before it is timed.
        var marks = ViewWatermarks()
        guard case .success = decoder.decode(datagram, watermarks: &marks) else { throw BenchError("decode of a genuine datagram failed") }
        guard rawVerify() else { throw BenchError("raw verify of a genuine signature failed") }
        guard try encoder.sign(view, with: signer).bytes == signed.bytes else { throw BenchError("signing is not deterministic") }

        func rawSignOnce() { rawSign(into: &sig) }
        let encode = Measure.paired(runs: s.runs, duration: s.runDuration, {
            blackHole(try? encoder.sign(view, with: stub))
        }, rawSignOnce)
        let swiftSign = Measure.paired(runs: s.runs, duration: s.runDuration, {
            blackHole(try? encoder.sign(view, with: signer))
        }, rawSignOnce)
        let decodeVerify = Measure.paired(runs: s.runs, duration: s.runDuration, {
            var marks = ViewWatermarks()
            blackHole(decoder.decode(datagram, watermarks: &marks))
        }, { blackHole(rawVerify()) })
        let decodeOnly = Measure.paired(runs: s.runs, duration: s.runDuration, {
            var marks = ViewWatermarks()
            blackHole(structural.decode(datagram, watermarks: &marks))
        }, { blackHole(rawVerify()) })
        return [
            BenchRow(figure: "encode view (fields, no crypto)", size: size, median: encode.a, unit: "ops/s",
                     anchor: "raw crypto_sign_detached", anchorMedian: encode.b, ratio: encode.ratio, runs: s.runs),
            BenchRow(figure: "sign view (encode + Ed25519)", size: size, median: swiftSign.a, unit: "ops/s",
                     anchor: "raw crypto_sign_detached", anchorMedian: swiftSign.b, ratio: swiftSign.ratio, runs: s.runs, note: "target ≥ 0.9×"),
            BenchRow(figure: "decode datagram (structure, no verify)", size: size, median: decodeOnly.a, unit: "ops/s",
                     anchor: "raw crypto_sign_verify_detached", anchorMedian: decodeOnly.b, ratio: decodeOnly.ratio, runs: s.runs),
            BenchRow(figure: "decode + verify datagram (1 view)", size: size, median: decodeVerify.a, unit: "ops/s",
                     anchor: "raw crypto_sign_verify_detached", anchorMedian: decodeVerify.b, ratio: decodeVerify.ratio, runs: s.runs, note: "target ≥ 0.9×"),
        ]
    }

    /// libsodium directly on the message bytes, no Swift wrapper, no allocation.
    private func rawSign(into sig: inout [UInt8]) {
        let rc = sig.withUnsafeMutableBufferPointer { out in
            message.withUnsafeBufferPointer { m in
                secretKey.withUnsafeBufferPointer { sk in
                    crypto_sign_detached(out.baseAddress!, nil, m.baseAddress, UInt64(m.count), sk.baseAddress!)
                }
            }
        }
        precondition(rc == 0, "crypto_sign_detached failed")
    }

    /// One raw libsodium verify of the genuine signature (the anchor of the decision-step figures).
    func verifyOnce() -> Bool { rawVerify() }

    private func rawVerify() -> Bool {
        signature.withUnsafeBufferPointer { s in
            message.withUnsafeBufferPointer { m in
                signer.publicKey.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(s.baseAddress!, m.baseAddress, UInt64(m.count), pk.baseAddress!) == 0
                }
            }
        }
    }
}

/// Deterministic Ed25519 seeds for bench fleets (SplitMix64 of the member index, like the test fleet's).
enum BenchKeys {
    static func seed(for index: Int) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(index))
        var seed: [UInt8] = []
        seed.reserveCapacity(32)
        for _ in 0..<4 {
            let word = rng.next()
            for shift in stride(from: 56, through: 0, by: -8) { seed.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return seed
    }
}

/// A signer that returns a fixed 64-byte "signature": isolates the cost of encoding the fields.
struct StubSigner: ViewSigner {
    let publicKey: [UInt8]
    let signature = [UInt8](repeating: 0x5A, count: 64)
    func sign(_ message: ArraySlice<UInt8>) -> [UInt8] { signature }
}

/// A verifier that accepts everything: isolates the cost of the decoder's structural checks.
struct AcceptingVerifier: SignatureVerifier {
    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool { true }
}

/// A benchmark that could not run as intended.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
