import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// One test per `WireError` case: a datagram that is correct except for the one fault (re-signed where
/// the fault is inside a view, so the structural check, not the signature, must catch it).
@Suite struct DecodeErrorTests {
    let fleet: TestFleet
    let decoder: DatagramDecoder
    /// A valid signed view of member 0 (5 members: 2 bitmap bytes, the last with 3 padding slots).
    let view0: [UInt8]
    /// A valid signed view of member 1.
    let view1: [UInt8]
    /// Watermarks that already hold something, so "unchanged" is a real check.
    let marks: ViewWatermarks
    let originAt: Int

    init() throws {
        fleet = try TestFleet(size: 5)
        decoder = fleet.decoder
        view0 = try fleet.signed(fleet.view(of: 0, sequence: 10)).bytes
        view1 = try fleet.signed(fleet.view(of: 1, sequence: 10)).bytes
        var m = fleet.emptyWatermarks
        m.advance(MemberIndex(3), to: ViewVersion(incarnation: 1, sequence: 4))
        marks = m
        originAt = Raw.originOffset(fleet.clusterID)
    }

    /// `view0` with one field changed and a valid signature again.
    func edited(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        Raw.datagram([Raw.resigned(view0, by: fleet.signers[0], edit: edit)])
    }

    @Test func theUneditedBaselineIsAccepted() {
        var m = marks
        #expect(decoder.decode(Raw.datagram([view0, view1]), watermarks: &m).datagram != nil)
        #expect(decoder.decode(edited { _ in }, watermarks: &m).error == .replayed(
            origin: MemberIndex(0), version: ViewVersion(incarnation: 1, sequence: 10),
            watermark: ViewVersion(incarnation: 1, sequence: 10)))
    }

    @Test func oversize() {
        let big = Raw.datagram([view0]) + [UInt8](repeating: 0, count: 1401 - Raw.datagram([view0]).count)
        expectRejected(big, .oversize(byteCount: 1401), decoder: decoder, watermarks: marks)
        expectRejected([UInt8](repeating: 0xFF, count: 65_507), .oversize(byteCount: 65_507), decoder: decoder, watermarks: marks)
        // Also through a non-array collection.
        var m = marks
        #expect(decoder.decode(repeatElement(UInt8(0), count: 2000), watermarks: &m).error == .oversize(byteCount: 2000))
    }

    @Test func truncated() {
        expectRejected([], .truncated, decoder: decoder, watermarks: marks)
        expectRejected(Array(WireFormat.magic + [1]), .truncated, decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([Array(view0.dropLast())]), .truncated, decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([view0], count: 2), .truncated, decoder: decoder, watermarks: marks)
    }

    @Test func badMagic() {
        var bytes = Raw.datagram([view0])
        bytes[3] = UInt8(ascii: "X")
        expectRejected(bytes, .badMagic, decoder: decoder, watermarks: marks)
        expectRejected(Array("GET / HTTP/1.1\r\n".utf8), .badMagic, decoder: decoder, watermarks: marks)
    }

    @Test func badVersionInHeaderAndInView() {
        expectRejected(Raw.datagram([view0], version: 2), .badVersion(2), decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([view0], version: 0), .badVersion(0), decoder: decoder, watermarks: marks)
        // View byte 0 is the layout: 1 dense, 2 listed; anything else is an unknown version.
        expectRejected(edited { $0[0] = 3 }, .badVersion(3), decoder: decoder, watermarks: marks)
        expectRejected(edited { $0[0] = 0 }, .badVersion(0), decoder: decoder, watermarks: marks)
    }

    @Test func noViews() {
        expectRejected(Raw.datagram([]), .noViews, decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([view0], count: 0), .noViews, decoder: decoder, watermarks: marks)
    }

    @Test func unknownCluster() throws {
        // Same keys and size, other cluster id of the same length and of another length.
        for id in ["test-clustex", "prod", String(repeating: "x", count: 64)] {
            let other = try TestFleet(size: 5, clusterID: id)
            let bytes = try other.datagram(other.view(of: 0)).bytes
            expectRejected(bytes, .unknownCluster, decoder: decoder, watermarks: marks)
        }
        expectRejected(edited { $0[1] = 0 }, .unknownCluster, decoder: decoder, watermarks: marks)
        expectRejected(edited { $0[1] = 65 }, .unknownCluster, decoder: decoder, watermarks: marks)
    }

    @Test func unknownOrigin() throws {
        let bigger = try TestFleet(size: 6)
        let bytes = try bigger.datagram(bigger.view(of: 5)).bytes
        expectRejected(bytes, .unknownOrigin(5), decoder: decoder, watermarks: marks)
        let at = originAt
        expectRejected(edited { $0[at] = 0xFF; $0[at + 1] = 0xFF }, .unknownOrigin(0xFFFF), decoder: decoder, watermarks: marks)
    }

    @Test func memberCountMismatch() throws {
        // A node whose cluster file has a sixth member: same keys for 0...4, one more slot.
        let bigger = try TestFleet(size: 6)
        let bytes = try bigger.datagram(bigger.view(of: 0)).bytes
        expectRejected(bytes, .memberCountMismatch(got: 6, expected: 5), decoder: decoder, watermarks: marks)
        let smaller = try TestFleet(size: 4)
        let bytes4 = try smaller.datagram(smaller.view(of: 0)).bytes
        expectRejected(bytes4, .memberCountMismatch(got: 4, expected: 5), decoder: decoder, watermarks: marks)
    }

    @Test func badSignature() throws {
        // Signed by member 1's key, claiming to be member 0.
        let forged = Raw.resigned(view0, by: fleet.signers[1]) { _ in }
        expectRejected(Raw.datagram([forged]), .badSignature(origin: MemberIndex(0)), decoder: decoder, watermarks: marks)
        // A good sender view with a forged relayed view: the whole datagram goes, the sender's mark too.
        let forgedRelay = Raw.resigned(view1, by: fleet.signers[0]) { _ in }
        expectRejected(
            Raw.datagram([view0, forgedRelay]), .badSignature(origin: MemberIndex(1)), decoder: decoder, watermarks: marks)
        // All-zero signature.
        let zeroSig = Array(view0.dropLast(64)) + [UInt8](repeating: 0, count: 64)
        expectRejected(Raw.datagram([zeroSig]), .badSignature(origin: MemberIndex(0)), decoder: decoder, watermarks: marks)
    }

    @Test func replayedSenderView() {
        var m = marks
        m.advance(MemberIndex(0), to: ViewVersion(incarnation: 1, sequence: 10))
        expectRejected(
            Raw.datagram([view0]),
            .replayed(origin: MemberIndex(0), version: ViewVersion(incarnation: 1, sequence: 10),
                      watermark: ViewVersion(incarnation: 1, sequence: 10)),
            decoder: decoder, watermarks: m)
    }

    @Test func trailingBytes() {
        expectRejected(Raw.datagram([view0]) + [0], .trailingBytes(count: 1), decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([view0, view1], count: 1), .trailingBytes(count: view1.count), decoder: decoder, watermarks: marks)
    }

    @Test func badEnumValues() {
        let upstream = originAt + 2 + 32
        for value: UInt8 in [3, 0x80, 0xFF] {
            expectRejected(edited { $0[upstream] = value }, .badUpstreamHealth(value), decoder: decoder, watermarks: marks)
        }
        for value: UInt8 in [9, 0xFF] {
            expectRejected(edited { $0[upstream + 1] = value }, .badDecisionState(value), decoder: decoder, watermarks: marks)
        }
    }

    @Test func nonZeroPadding() {
        // 5 members: the second bitmap byte holds slot 4 in bits 0-1; bits 2-7 are padding.
        for bit in 2..<8 {
            expectRejected(edited { $0[$0.count - 1] |= UInt8(1) << UInt8(bit) }, .nonZeroPadding, decoder: decoder, watermarks: marks)
        }
    }

    @Test func badSelfSlot() {
        let bitmap = originAt + 38
        let bad = WireError.badSelfSlot(origin: MemberIndex(0))
        // Own slot (member 0: bits 0-1 of the first byte) says reachable instead of self.
        expectRejected(edited { $0[bitmap] = ($0[bitmap] & ~0b11) | 0b01 }, bad, decoder: decoder, watermarks: marks)
        // Another slot (member 2: bits 4-5) also says self.
        expectRejected(edited { $0[bitmap] |= 0b11_0000 }, bad, decoder: decoder, watermarks: marks)
        // Member 4 (second byte, bits 0-1) says self.
        expectRejected(edited { $0[bitmap + 1] |= 0b11 }, bad, decoder: decoder, watermarks: marks)
    }

    @Test func duplicateOrigin() throws {
        let older = try fleet.signed(fleet.view(of: 0, sequence: 9)).bytes
        expectRejected(Raw.datagram([view0, older]), .duplicateOrigin(MemberIndex(0)), decoder: decoder, watermarks: marks)
        expectRejected(Raw.datagram([view0, view1, view1]), .duplicateOrigin(MemberIndex(1)), decoder: decoder, watermarks: marks)
    }

    @Test func everyReasonIsListedOnceAndDescribed() {
        let samples: [WireError] = [
            .oversize(byteCount: 1), .truncated, .badMagic, .badVersion(9), .noViews, .unknownCluster, .unknownOrigin(7),
            .duplicateOrigin(MemberIndex(1)), .badUpstreamHealth(9), .badDecisionState(9),
            .memberCountMismatch(got: 1, expected: 2), .nonZeroPadding, .badSelfSlot(origin: MemberIndex(1)),
            .badReachList(origin: MemberIndex(1)), .trailingBytes(count: 1), .replayed(origin: MemberIndex(1), version: .init(incarnation: 1, sequence: 1),
                                               watermark: .init(incarnation: 1, sequence: 2)),
            .badSignature(origin: MemberIndex(1)),
        ]
        #expect(samples.map(\.reason) == WireError.allReasons)
        #expect(Set(WireError.allReasons).count == WireError.allReasons.count)
        for error in samples { #expect(error.description.hasPrefix(error.reason + ":")) }
    }
}
