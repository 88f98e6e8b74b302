import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Damaged and hostile input: nothing but the exact signed bytes is ever accepted.
@Suite struct MutationTests {
    let fleet: TestFleet
    let decoder: DatagramDecoder
    /// Member 2's datagram relaying member 4's view: two signed views, 242 bytes.
    let twoViews: [UInt8]

    init() throws {
        fleet = try TestFleet(size: 5)
        decoder = fleet.decoder
        var rng = SplitMix64(seed: 42)
        let relayed = try fleet.signed(fleet.randomView(of: 4, using: &rng, incarnation: 2, sequence: 17))
        twoViews = try fleet.datagram(fleet.randomView(of: 2, using: &rng, incarnation: 3, sequence: 9), relaying: [relayed]).bytes
    }

    @Test func theUnflippedDatagramIsAccepted() {
        var marks = fleet.emptyWatermarks
        let decoded = decoder.decode(twoViews, watermarks: &marks).datagram
        #expect(decoded?.relayed.count == 1)
        #expect(twoViews.count == 6 + 2 * (104 + 12 + 2))
    }

    @Test func everySingleBitFlipIsRejected() {
        let marks = fleet.emptyWatermarks
        var reasons: [String: Int] = [:]
        for bit in 0..<(twoViews.count * 8) {
            var bytes = twoViews
            bytes[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            var m = marks
            let result = decoder.decode(bytes, watermarks: &m)
            guard let error = result.error else {
                Issue.record("bit \(bit) (byte \(bit / 8)) flipped and the datagram was accepted")
                continue
            }
            #expect(m == marks, "watermarks moved after flipping bit \(bit)")
            reasons[error.reason, default: 0] += 1
        }
        // The flips land in every kind of check, and most in signature-covered bytes.
        for reason in ["bad_magic", "bad_version", "truncated", "unknown_cluster", "bad_signature"] {
            #expect(reasons[reason, default: 0] > 0, "no flip produced \(reason): \(reasons)")
        }
    }

    @Test func everyTruncationIsRejectedAsTruncated() {
        for length in 0..<twoViews.count {
            var m = fleet.emptyWatermarks
            let result = decoder.decode(twoViews.prefix(length), watermarks: &m)
            #expect(result.error == .truncated, "prefix of \(length) bytes: \(result)")
            #expect(m == fleet.emptyWatermarks)
        }
    }

    @Test func randomGarbageIsNeverAccepted() {
        var rng = SplitMix64(seed: 0xBAD_5EED)
        let marks = fleet.emptyWatermarks
        var reasons = Set<String>()
        for round in 0..<20_000 {
            // Odd rounds: a random-length prefix of a real datagram, then random bytes to its full length,
            // so the deeper checks (fields, bitmap, signatures) get exercised too.
            let length = round % 2 == 0 ? Int(rng.next() % 1_501) : twoViews.count
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if round % 2 == 1 {
                let keep = Int(rng.next() % UInt64(twoViews.count))
                bytes.replaceSubrange(0..<keep, with: twoViews[0..<keep])
            }
            var m = marks
            let result = decoder.decode(bytes, watermarks: &m)
            guard let error = result.error else {
                Issue.record("garbage accepted: round \(round), \(Hex.encode(bytes))")
                continue
            }
            reasons.insert(error.reason)
            #expect(m == marks)
        }
        #expect(reasons.isSuperset(of: ["oversize", "truncated", "bad_magic", "bad_signature"]), "\(reasons)")
    }

    @Test func randomMultiByteDamageIsNeverAccepted() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            var bytes = twoViews
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            var m = fleet.emptyWatermarks
            #expect(decoder.decode(bytes, watermarks: &m).error != nil)
        }
    }

    @Test func relayedViewWithAnyFieldAlteredIsRejected() throws {
        // Fields of the relayed view (member 4), starting after the 6-byte header and the first view.
        let start = 6 + 118
        let id = fleet.clusterID.utf8.count
        let fields: [(String, Int)] = [
            ("incarnation", 4 + id), ("sequence", 12 + id), ("origin time", 20 + id), ("config digest", 28 + id),
            ("upstream", 37 + id - 1), ("decision", 37 + id), ("bitmap", 40 + id),
        ]
        for (name, offset) in fields {
            var bytes = twoViews
            bytes[start + offset] ^= 0x01
            var m = fleet.emptyWatermarks
            let error = decoder.decode(bytes, watermarks: &m).error
            #expect(error != nil, "altered \(name) accepted")
            #expect(m == fleet.emptyWatermarks)
        }
        // A higher sequence (what a forger would want: newer than the real one) fails the signature.
        var bumped = twoViews
        bumped[start + 12 + id + 7] &+= 1
        var m = fleet.emptyWatermarks
        #expect(decoder.decode(bumped, watermarks: &m).error == .badSignature(origin: MemberIndex(4)))
    }

    @Test func viewsCannotBeMovedToAnotherCluster() throws {
        // Same keys, other cluster id: a view signed for one cluster never verifies in another.
        let other = try TestFleet(size: 5, clusterID: "test-clustex")
        var bytes = twoViews
        for idStart in [6 + 2, 6 + 118 + 2] {
            bytes.replaceSubrange(idStart..<(idStart + 12), with: Array("test-clustex".utf8))
        }
        var m = other.emptyWatermarks
        #expect(other.decoder.decode(bytes, watermarks: &m).error == .badSignature(origin: MemberIndex(2)))
    }
}
