import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Watermarks: the sender's view must be news; stale relayed copies are skipped, never verified or trusted.
@Suite struct ReplayTests {
    let fleet: TestFleet
    let decoder: DatagramDecoder

    init() throws {
        fleet = try TestFleet(size: 5)
        decoder = fleet.decoder
    }

    func version(_ incarnation: UInt64, _ sequence: UInt64) -> ViewVersion {
        ViewVersion(incarnation: incarnation, sequence: sequence)
    }

    func datagram(from origin: Int, _ incarnation: UInt64, _ sequence: UInt64, relaying: [SignedView] = []) throws -> [UInt8] {
        try fleet.datagram(fleet.view(of: origin, incarnation: incarnation, sequence: sequence), relaying: relaying).bytes
    }

    @Test func sameDatagramTwiceIsReplayed() throws {
        var marks = fleet.emptyWatermarks
        let bytes = try datagram(from: 1, 4, 20)
        #expect(decoder.decode(bytes, watermarks: &marks).datagram != nil)
        #expect(marks[MemberIndex(1)] == version(4, 20))
        expectRejected(
            bytes, .replayed(origin: MemberIndex(1), version: version(4, 20), watermark: version(4, 20)),
            decoder: decoder, watermarks: marks)
    }

    @Test func olderSequenceOrIncarnationIsReplayed() throws {
        var marks = fleet.emptyWatermarks
        #expect(decoder.decode(try datagram(from: 1, 4, 20), watermarks: &marks).datagram != nil)
        for (inc, seq) in [(4, 19), (4, 0), (3, 21), (3, .max), (0, 0)] as [(UInt64, UInt64)] {
            expectRejected(
                try datagram(from: 1, inc, seq),
                .replayed(origin: MemberIndex(1), version: version(inc, seq), watermark: version(4, 20)),
                decoder: decoder, watermarks: marks)
        }
    }

    @Test func newerIncarnationWithLowSequenceIsAccepted() throws {
        var marks = fleet.emptyWatermarks
        #expect(decoder.decode(try datagram(from: 1, 4, 1_000_000), watermarks: &marks).datagram != nil)
        #expect(decoder.decode(try datagram(from: 1, 5, 0), watermarks: &marks).datagram != nil)
        #expect(marks[MemberIndex(1)] == version(5, 0))
        #expect(decoder.decode(try datagram(from: 1, 5, 1), watermarks: &marks).datagram != nil)
    }

    @Test func staleRelayedViewsAreSkippedUnverifiedAndNotReturned() throws {
        var marks = fleet.emptyWatermarks
        let relay3 = try fleet.signed(fleet.view(of: 3, sequence: 8))
        let relay4 = try fleet.signed(fleet.view(of: 4, sequence: 8))
        let first = try decoder.decode(try datagram(from: 1, 1, 1, relaying: [relay3, relay4]), watermarks: &marks).get()
        #expect(first.relayed.map(\.origin) == [MemberIndex(3), MemberIndex(4)] && first.skippedRelayed == 0)

        // Member 2 relays the same copy of 3 and an older copy of 4: both skipped, the sender accepted.
        let older4 = try fleet.signed(fleet.view(of: 4, sequence: 7))
        let second = try decoder.decode(try datagram(from: 2, 1, 1, relaying: [relay3, older4]), watermarks: &marks).get()
        #expect(second.relayed.isEmpty && second.skippedRelayed == 2)
        #expect(marks[MemberIndex(4)] == version(1, 8))

        // A stale relayed copy is not verified: a broken signature on it costs nothing and is not used.
        var brokenStale = relay3.bytes
        brokenStale[brokenStale.count - 1] ^= 0x01
        let bytes = Raw.datagram([try fleet.signed(fleet.view(of: 0, sequence: 2)).bytes, brokenStale])
        let third = try decoder.decode(bytes, watermarks: &marks).get()
        #expect(third.relayed.isEmpty && third.skippedRelayed == 1)
        #expect(marks[MemberIndex(3)] == version(1, 8))
    }

    @Test func newerRelayedViewWithBadSignatureRejectsEverything() throws {
        var marks = fleet.emptyWatermarks
        marks.advance(MemberIndex(3), to: version(1, 5))
        let before = marks
        var broken = try fleet.signed(fleet.view(of: 3, sequence: 6)).bytes
        broken[broken.count - 10] ^= 0x40
        let bytes = Raw.datagram([try fleet.signed(fleet.view(of: 0, sequence: 2)).bytes, broken])
        expectRejected(bytes, .badSignature(origin: MemberIndex(3)), decoder: decoder, watermarks: before)
        // The sender's own view was valid, but nothing of the datagram is taken: its mark did not move.
        _ = decoder.decode(bytes, watermarks: &marks)
        #expect(marks[MemberIndex(0)] == nil)
    }

    @Test func relayedViewsAdvanceTheirOwnWatermarks() throws {
        var marks = fleet.emptyWatermarks
        let relay = try fleet.signed(fleet.view(of: 3, incarnation: 2, sequence: 40))
        _ = try decoder.decode(try datagram(from: 1, 1, 1, relaying: [relay]), watermarks: &marks).get()
        #expect(marks[MemberIndex(3)] == version(2, 40))
        // Member 3's own datagram with an older version is now stale (docs: relay/direct race).
        expectRejected(
            try datagram(from: 3, 2, 39), .replayed(origin: MemberIndex(3), version: version(2, 39), watermark: version(2, 40)),
            decoder: decoder, watermarks: marks)
        #expect(decoder.decode(try datagram(from: 3, 2, 41), watermarks: &marks).datagram != nil)
    }

    @Test func pinnedLocalMemberIsNeverAccepted() throws {
        var marks = fleet.emptyWatermarks
        marks.pin(MemberIndex(0))
        let bytes = try datagram(from: 0, .max, .max - 1)
        expectRejected(
            bytes, .replayed(origin: MemberIndex(0), version: version(.max, .max - 1), watermark: ViewWatermarks.pinnedVersion),
            decoder: decoder, watermarks: marks)
        // Our own view relayed back by member 2 is skipped.
        let relayedSelf = try fleet.signed(fleet.view(of: 0, incarnation: 9, sequence: 9))
        let decoded = try decoder.decode(try datagram(from: 2, 1, 1, relaying: [relayedSelf]), watermarks: &marks).get()
        #expect(decoded.relayed.isEmpty && decoded.skippedRelayed == 1)
    }

    @Test func watermarksNeverGoBackAndGrowOnDemand() {
        var marks = ViewWatermarks()
        #expect(marks[MemberIndex(70)] == nil)
        marks.advance(MemberIndex(70), to: version(2, 2))
        marks.advance(MemberIndex(70), to: version(2, 1))
        #expect(marks[MemberIndex(70)] == version(2, 2))
        #expect(marks.isNewer(version(2, 3), than: MemberIndex(70)))
        #expect(!marks.isNewer(version(2, 2), than: MemberIndex(70)))
        #expect(marks.isNewer(version(0, 0), than: MemberIndex(69)))
    }
}
