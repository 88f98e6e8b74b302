import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

@Suite struct RoundTripTests {
    /// Encode a random view of `sender` relaying random views of `relayedOrigins`, decode, compare.
    func roundTrip(size: Int, sender: Int, relayedOrigins: [Int], seed: UInt64) throws -> (EncodedDatagram, DecodedDatagram) {
        let fleet = try TestFleet(size: size)
        var rng = SplitMix64(seed: seed)
        let relayed = try relayedOrigins.map { try fleet.signed(fleet.randomView(of: $0, using: &rng, sequence: 7)) }
        let own = fleet.randomView(of: sender, using: &rng, incarnation: 3, sequence: 99)
        let encoded = try fleet.datagram(own, relaying: relayed)
        var marks = fleet.emptyWatermarks
        let decoded = try fleet.decoder.decode(encoded.bytes, watermarks: &marks).get()
        #expect(decoded.sender.view == own)
        #expect(decoded.sender == encoded.sender)
        #expect(decoded.relayed.map(\.view) == Array(relayed.prefix(encoded.relayedCount)).map(\.view))
        #expect(decoded.relayed.map(\.bytes) == Array(relayed.prefix(encoded.relayedCount)).map(\.bytes))
        #expect(decoded.skippedRelayed == 0)
        #expect(marks[own.origin] == own.version)
        for v in decoded.relayed { #expect(marks[v.origin] == v.version) }
        #expect(encoded.bytes.count <= WireFormat.maxDatagramBytes)
        return (encoded, decoded)
    }

    @Test func oneMember() throws {
        let (encoded, decoded) = try roundTrip(size: 1, sender: 0, relayedOrigins: [], seed: 1)
        #expect(decoded.sender.view.reach == [.isSelf])
        // 6 header + 104 fixed + 12 cluster id + 1 bitmap byte.
        #expect(encoded.bytes.count == 123)
    }

    @Test func fiveMembersWithRelays() throws {
        let (encoded, decoded) = try roundTrip(size: 5, sender: 2, relayedOrigins: [0, 4, 1], seed: 5)
        #expect(encoded.relayedCount == 3 && encoded.droppedRelayed == 0)
        #expect(decoded.relayed.map(\.origin) == [MemberIndex(0), MemberIndex(4), MemberIndex(1)])
        #expect(encoded.bytes.count == 6 + 4 * (104 + 12 + 2))
    }

    @Test func everyReachValueInEverySlotPosition() throws {
        // 9 members: slots in all four bit positions of a byte and a padded last byte.
        let fleet = try TestFleet(size: 9)
        let values: [Reach] = [.unknown, .reachable, .unreachable]
        for origin in 0..<9 {
            for shift in 0..<3 {
                let reach = (0..<9).map { $0 == origin ? Reach.isSelf : values[($0 + shift) % 3] }
                let view = fleet.view(of: origin, sequence: UInt64(shift + 1), reach: reach)
                var marks = fleet.emptyWatermarks
                let decoded = try fleet.decoder.decode(try fleet.datagram(view).bytes, watermarks: &marks).get()
                #expect(decoded.sender.view == view)
            }
        }
    }

    @Test func extremeFieldValues() throws {
        let fleet = try TestFleet(size: 3)
        let view = fleet.view(
            of: 2, incarnation: .max - 1, sequence: .max, originTimeMillis: .max, configDigest: 0,
            upstream: .failing, decision: .disabled)
        var marks = fleet.emptyWatermarks
        #expect(try fleet.decoder.decode(try fleet.datagram(view).bytes, watermarks: &marks).get().sender.view == view)
    }

    @Test func thousandMembersFitWithTwoRelayedViews() throws {
        let (encoded, decoded) = try roundTrip(size: 1000, sender: 999, relayedOrigins: [0, 500, 1, 2, 3], seed: 1000)
        // Each view: 104 + 12 ("test-cluster") + 250 bitmap bytes = 366; three fit in 1,394.
        #expect(encoded.sender.bytes.count == 366)
        #expect(encoded.relayedCount == 2 && encoded.droppedRelayed == 3)
        #expect(encoded.bytes.count == 6 + 3 * 366)
        #expect(encoded.bytes.count <= 1400)
        #expect(decoded.relayed.map(\.origin) == [MemberIndex(0), MemberIndex(500)])
        #expect(WireFormat.viewsPerDatagram(clusterIDBytes: 12, memberCount: 1000) == 3)
    }

    @Test func thousandMembersWithTheLongestClusterIDStillFit() throws {
        let fleet = try TestFleet(size: 1000, clusterID: String(repeating: "c", count: 64))
        let encoded = try fleet.datagram(fleet.view(of: 0))
        #expect(encoded.bytes.count == 6 + 104 + 64 + 250)
        var marks = fleet.emptyWatermarks
        #expect(fleet.decoder.decode(encoded.bytes, watermarks: &marks).datagram != nil)
    }

    @Test func decodesFromAnyCollection() throws {
        let fleet = try TestFleet(size: 5)
        let bytes = try fleet.datagram(fleet.view(of: 1)).bytes
        var a = fleet.emptyWatermarks, b = fleet.emptyWatermarks, c = fleet.emptyWatermarks
        // An ArraySlice that does not start at index 0, a non-contiguous collection, and an array.
        let padded = [0xAA, 0xBB] + bytes
        let fromSlice = fleet.decoder.decode(padded[2...], watermarks: &a).datagram
        let fromLazy = fleet.decoder.decode(bytes.lazy.map { $0 }, watermarks: &b).datagram
        let fromArray = fleet.decoder.decode(bytes, watermarks: &c).datagram
        #expect(fromSlice != nil && fromSlice == fromArray && fromLazy == fromArray)
    }

    @Test func maxMembersIsTheLargestRosterThatFits() {
        for id in [1, 12, 64] {
            let n = WireFormat.maxMembers(clusterIDBytes: id)
            #expect(WireFormat.headerBytes + WireFormat.viewBytes(clusterIDBytes: id, memberCount: n) == 1400)
            #expect(WireFormat.headerBytes + WireFormat.viewBytes(clusterIDBytes: id, memberCount: n + 1) > 1400)
        }
        #expect(WireFormat.maxMembers(clusterIDBytes: 64) == 4904)
    }
}
