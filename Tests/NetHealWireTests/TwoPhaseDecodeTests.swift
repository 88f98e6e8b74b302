import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// `parse` then `accept` is `decode`: same result, same watermarks, for accepted and rejected datagrams,
/// whether or not the views were materialised in the shared phase, and when one parse serves many receivers.
@Suite struct TwoPhaseDecodeTests {
    let fleet: TestFleet
    let decoder: DatagramDecoder

    init() throws {
        fleet = try TestFleet(size: 6)
        decoder = fleet.decoder
    }

    func version(_ incarnation: UInt64, _ sequence: UInt64) -> ViewVersion {
        ViewVersion(incarnation: incarnation, sequence: sequence)
    }

    /// Datagrams covering acceptance (with fresh, stale and unwanted relayed views) and every phase's rejections.
    func corpus() throws -> [(String, [UInt8])] {
        let relayed2 = try fleet.signed(fleet.view(of: 2, incarnation: 3, sequence: 7))
        let relayed3 = try fleet.signed(fleet.view(of: 3, incarnation: 1, sequence: 2))
        let relayed5 = try fleet.signed(fleet.view(of: 5, incarnation: 9, sequence: 1))
        let plain = try fleet.datagram(fleet.view(of: 1, incarnation: 4, sequence: 20)).bytes
        let relaying = try fleet.datagram(
            fleet.view(of: 1, incarnation: 4, sequence: 21), relaying: [relayed2, relayed3, relayed5]).bytes
        var badSenderSignature = plain
        badSenderSignature[badSenderSignature.count - 1] ^= 0x01
        var badRelayedSignature = relaying
        badRelayedSignature[badRelayedSignature.count - 1] ^= 0x01
        var trailing = plain
        trailing.append(0)
        var badMagic = plain
        badMagic[0] = 0
        return [
            ("plain", plain), ("relaying", relaying), ("bad sender signature", badSenderSignature),
            ("bad relayed signature", badRelayedSignature), ("truncated", Array(plain.dropLast(3))),
            ("trailing bytes", trailing), ("bad magic", badMagic), ("empty", []),
            ("oversize", [UInt8](repeating: 0, count: WireFormat.maxDatagramBytes + 1)),
        ]
    }

    /// Receivers in different states: fresh, having seen some views, pinned on the sender, neighbourhood mode.
    func receivers() -> [(String, ViewWatermarks)] {
        var seen = fleet.emptyWatermarks
        seen.advance(MemberIndex(3), to: version(1, 2))
        seen.advance(MemberIndex(5), to: version(9, 0))
        var newer = fleet.emptyWatermarks
        newer.advance(MemberIndex(1), to: version(4, 20))
        var pinned = fleet.emptyWatermarks
        pinned.pin(MemberIndex(1))
        var neighbourhood = ViewWatermarks(neighbors: [MemberIndex(1), MemberIndex(2)])
        neighbourhood.pin(MemberIndex(0))
        return [("fresh", fleet.emptyWatermarks), ("seen", seen), ("newer", newer), ("pinned", pinned),
            ("neighbourhood", neighbourhood)]
    }

    @Test(arguments: [false, true]) func parseThenAcceptEqualsDecode(materialize: Bool) throws {
        var outcomes: Set<String> = []
        for (name, bytes) in try corpus() {
            for (state, marks) in receivers() {
                var byDecode = marks
                let expected = decoder.decode(bytes, watermarks: &byDecode)
                var byPhases = marks
                let got: Result<DecodedDatagram, WireError>
                switch decoder.parse(bytes, materializeViews: materialize) {
                case .success(let parsed): got = decoder.accept(parsed, watermarks: &byPhases)
                case .failure(let error): got = .failure(error)
                }
                #expect(got == expected, "\(name) at a \(state) receiver")
                #expect(byPhases == byDecode, "\(name) at a \(state) receiver: watermarks differ")
                outcomes.insert(expected.error?.reason ?? "accepted, \(expected.datagram!.relayed.count) relayed")
            }
        }
        // The corpus really covers acceptance with skipping and each kind of rejection.
        for outcome in ["accepted, 3 relayed", "accepted, 1 relayed", "replayed", "bad_signature", "truncated",
            "trailing_bytes", "bad_magic", "oversize"] {
            #expect(outcomes.contains(outcome), "no case gave \(outcome): \(outcomes.sorted())")
        }
    }

    @Test func oneParseServesManyReceiversInTurn() throws {
        let relayed = try fleet.signed(fleet.view(of: 2, incarnation: 3, sequence: 7))
        let bytes = try fleet.datagram(fleet.view(of: 1, incarnation: 4, sequence: 21), relaying: [relayed]).bytes
        let parsed = try decoder.parse(bytes, materializeViews: true).get()
        #expect(parsed.viewCount == 2)
        #expect(parsed.origins == [MemberIndex(1), MemberIndex(2)])
        for (state, marks) in receivers() {
            var a = marks
            var b = marks
            #expect(decoder.accept(parsed, watermarks: &a) == decoder.decode(bytes, watermarks: &b), "\(state)")
            #expect(a == b)
            // The same receiver again: now a replay, both ways.
            #expect(decoder.accept(parsed, watermarks: &a) == decoder.decode(bytes, watermarks: &b), "\(state), again")
            #expect(a == b)
        }
    }
}
