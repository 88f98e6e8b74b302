import NetHealCore
import NetHealSodium
import NetHealTestKit
@testable import NetHealWire
import Testing

/// `DatagramEncoder.encodeParsed` builds the parse from what it wrote: it must be exactly the parse the
/// decoder makes of the same bytes, and the bytes exactly `encode`'s.
@Suite struct EncodeParsedTests {
    /// A listed view of `origin` speaking of `subjects`, reach values drawn from `rng`.
    static func listed(_ origin: Int, subjects: [Int], using rng: inout SplitMix64, sequence: UInt64) -> ReachabilityView {
        let values: [Reach] = [.unknown, .reachable, .unreachable]
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 3, sequence: sequence, originTimeMillis: rng.next() >> 22,
            configDigest: rng.next(), upstream: UpstreamHealth.allCases[Int(rng.next() % 3)],
            decision: DecisionState.allCases[Int(rng.next() % 8)],
            reach: subjects.map { _ in values[Int(rng.next() % 3)] }, reachSubjects: subjects.map { MemberIndex($0) })
    }

    /// A random view of `origin`: dense, or (one time in three) listed with a few random subjects.
    static func anyView(_ fleet: TestFleet, _ origin: Int, using rng: inout SplitMix64, sequence: UInt64) -> ReachabilityView {
        guard rng.next() % 3 == 0 else { return fleet.randomView(of: origin, using: &rng, sequence: sequence) }
        let count = Int(rng.next() % 12)
        let subjects = Set((0..<count).map { _ in Int(rng.next() % UInt64(fleet.size)) }).subtracting([origin]).sorted()
        return listed(origin, subjects: subjects, using: &rng, sequence: sequence)
    }

    /// Checks `encodeParsed(signed: own, relaying: relayed)` against `encode` and `parse`.
    static func expectSameAsDecoderParse(
        _ fleet: TestFleet, _ own: SignedView, _ relayed: [SignedView], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let encoder = fleet.encoder
        let decoder = fleet.decoder
        let made = encoder.encodeParsed(signed: own, relaying: relayed)
        let plain = encoder.encode(signed: own, relaying: relayed)
        #expect(made.bytes == plain.bytes, sourceLocation: sourceLocation)
        #expect(made.encoded == plain, sourceLocation: sourceLocation)
        #expect(made.sender == own, sourceLocation: sourceLocation)
        let reparsed = try decoder.parse(made.bytes, materializeViews: true).get()
        #expect(made.parsed.bytes == reparsed.bytes, sourceLocation: sourceLocation)
        #expect(made.parsed.viewCount == reparsed.viewCount, sourceLocation: sourceLocation)
        #expect(made.parsed.origins == reparsed.origins, sourceLocation: sourceLocation)
        #expect(made.parsed.views == reparsed.views, sourceLocation: sourceLocation)
        let headers = made.parsed.withHeaders { Array($0) }
        let expected = reparsed.withHeaders { Array($0) }
        #expect(headers == expected, sourceLocation: sourceLocation)
        // And a receiver gets from it exactly what a decode of the bytes gives.
        var marksA = fleet.emptyWatermarks
        var marksB = fleet.emptyWatermarks
        let accepted = decoder.accept(made.parsed, watermarks: &marksA)
        let decoded = decoder.decode(made.bytes, watermarks: &marksB)
        #expect(accepted == decoded, sourceLocation: sourceLocation)
        #expect(marksA == marksB, sourceLocation: sourceLocation)
    }

    @Test func manyRandomDatagramsParseAsTheDecoderParsesThem() throws {
        let fleet = try TestFleet(size: 40)
        let stranger = try TestFleet(size: 40, clusterID: "other-cluster")
        let smaller = try TestFleet(size: 39)
        var rng = SplitMix64(seed: 0x5EED)
        var sawDropped = 0
        var sawListed = 0
        for round in 0..<150 {
            let sequence = UInt64(round + 1)
            let sender = Int(rng.next() % 40)
            let own = try fleet.signed(Self.anyView(fleet, sender, using: &rng, sequence: sequence))
            var relayed: [SignedView] = []
            for _ in 0..<Int(rng.next() % 9) {
                let origin = Int(rng.next() % 40)
                switch rng.next() % 10 {
                case 0: relayed.append(try stranger.signed(stranger.view(of: origin)))  // another cluster: dropped
                case 1: relayed.append(try smaller.signed(smaller.view(of: origin % 39)))  // another size: dropped
                case 2: relayed.append(own)  // the sender's own origin: dropped
                default: relayed.append(try fleet.signed(Self.anyView(fleet, origin, using: &rng, sequence: sequence)))
                }
            }
            let made = fleet.encoder.encodeParsed(signed: own, relaying: relayed)
            if made.droppedRelayed > 0 { sawDropped += 1 }
            if made.parsed.views.contains(where: { $0.view.reachSubjects != nil }) { sawListed += 1 }
            try Self.expectSameAsDecoderParse(fleet, own, relayed)
        }
        // The rounds did exercise both the dropped-relay path and layout 2.
        #expect(sawDropped > 10)
        #expect(sawListed > 10)
    }

    @Test func viewsThatDoNotFitAreDroppedAsEncodeDropsThem() throws {
        // 1,000 members: 364-byte views, three per datagram.
        let fleet = try TestFleet(size: 1000)
        var rng = SplitMix64(seed: 7)
        let own = try fleet.signed(fleet.randomView(of: 500, using: &rng, sequence: 4))
        let relayed = try [1, 2, 3, 4, 2].map { try fleet.signed(fleet.randomView(of: $0, using: &rng, sequence: 2)) }
        let made = fleet.encoder.encodeParsed(signed: own, relaying: relayed)
        #expect(made.relayedCount == 2)
        #expect(made.droppedRelayed == 3)
        #expect(made.parsed.origins == [500, 1, 2].map { MemberIndex($0) })
        try Self.expectSameAsDecoderParse(fleet, own, relayed)
        // All of them fit: the parse keeps the offered views, the sender's first.
        let two = Array(relayed.prefix(2))
        let all = fleet.encoder.encodeParsed(signed: own, relaying: two)
        #expect(all.droppedRelayed == 0)
        #expect(all.parsed.views == [own] + two)
        try Self.expectSameAsDecoderParse(fleet, own, two)
    }

    @Test func moreThanSixtyFourOfferedViewsTakeTheListPath() throws {
        let fleet = try TestFleet(size: 100)
        var rng = SplitMix64(seed: 11)
        let empty: [Int] = []
        let own = try fleet.signed(Self.listed(0, subjects: empty, using: &rng, sequence: 1))
        // 70 tiny listed views (106 + 12 bytes each): eleven fit.
        let relayed = try (1...70).map { try fleet.signed(Self.listed($0 % 60 + 1, subjects: empty, using: &rng, sequence: 1)) }
        let made = fleet.encoder.encodeParsed(signed: own, relaying: relayed)
        #expect(made.relayedCount == (WireFormat.maxDatagramBytes - 6) / own.bytes.count - 1)
        try Self.expectSameAsDecoderParse(fleet, own, relayed)
    }

    @Test func encodeParsedSignsAndChecksLikeEncode() throws {
        let fleet = try TestFleet(size: 40)
        let view = fleet.view(of: 5, sequence: 3)
        let made = try fleet.encoder.encodeParsed(view, signer: fleet.signers[5])
        #expect(made.bytes == (try fleet.datagram(view)).bytes)
        #expect(made.sender.view == view)
        // Refused exactly as `encode` refuses: a second self slot, a wrong key.
        var twoSelves = view.reach
        twoSelves[6] = .isSelf
        let bad = fleet.view(of: 5, reach: twoSelves)
        #expect(throws: EncodeError.badSelfSlot(origin: MemberIndex(5))) {
            try fleet.encoder.encodeParsed(bad, signer: fleet.signers[5])
        }
        #expect(throws: EncodeError.signerKeyMismatch(origin: MemberIndex(5))) {
            try fleet.encoder.encodeParsed(view, signer: fleet.signers[6])
        }
    }
}
