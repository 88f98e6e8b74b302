import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Layout 2: views that list only the origin's neighbours (docs/protocol.md §3.5, docs/scaling.md).
@Suite struct ListedViewTests {
    static let fleet = try! TestFleet(size: 10_000)

    /// A listed view of `origin` speaking of `subjects` with reach values cycling through 0…2.
    static func listed(_ origin: Int, subjects: [Int], sequence: UInt64 = 1) -> ReachabilityView {
        let values: [Reach] = [.unknown, .reachable, .unreachable]
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 2, sequence: sequence, originTimeMillis: 1_700_000_000_000,
            configDigest: 0xABCD, upstream: .up, decision: .healthy,
            reach: subjects.indices.map { values[$0 % 3] }, reachSubjects: subjects.map { MemberIndex($0) })
    }

    static func neighbours(of origin: Int) -> [Int] {
        (1...32).map { (origin + $0 * 311) % 10_000 }.filter { $0 != origin }.sorted()
    }

    @Test func aTenThousandMemberViewFitsWithRelaysAndRoundTrips() throws {
        let fleet = Self.fleet
        let own = Self.listed(7, subjects: Self.neighbours(of: 7), sequence: 9)
        let relayed = try [9_999, 4_242].map { try fleet.signed(Self.listed($0, subjects: Self.neighbours(of: $0))) }
        let encoded = try fleet.datagram(own, relaying: relayed)
        // 6 + 3 × (106 + 12-byte cluster id + 32 × 3).
        #expect(encoded.bytes.count == 6 + 3 * (106 + 12 + 96))
        #expect(encoded.bytes.count == 6 + 3 * WireFormat.listedViewBytes(clusterIDBytes: 12, entries: 32))
        var marks = fleet.emptyWatermarks
        let decoded = try fleet.decoder.decode(encoded.bytes, watermarks: &marks).get()
        #expect(decoded.sender.view == own)
        #expect(decoded.relayed.map(\.view) == relayed.map(\.view))
        #expect(decoded.sender.view.reach(of: MemberIndex(Self.neighbours(of: 7)[1])) == .reachable)
        #expect(decoded.sender.view.reach(of: MemberIndex(8)) == nil)
        #expect(decoded.sender.view.denseReach(memberCount: 10_000)[7] == .isSelf)
        #expect(WireFormat.viewLength(startingWith: encoded.sender.bytes[...]) == encoded.sender.bytes.count)
    }

    @Test func denseSenderMayRelayListedViewsAndBack() throws {
        let fleet = try TestFleet(size: 40)
        let dense = fleet.view(of: 3, sequence: 5)
        let listed = try fleet.signed(Self.listed(8, subjects: [1, 3, 30]))
        var marks = fleet.emptyWatermarks
        let decoded = try fleet.decoder.decode(try fleet.datagram(dense, relaying: [listed]).bytes, watermarks: &marks).get()
        #expect(decoded.sender.view == dense)
        #expect(decoded.relayed.map(\.view) == [listed.view])
    }

    /// Every way a listed view's entries can be wrong is rejected before its signature is checked.
    @Test func badListsAreRejected() throws {
        let fleet = try TestFleet(size: 40)
        let good = try fleet.datagram(Self.listed(8, subjects: [1, 3, 30])).bytes
        let origin = MemberIndex(8)
        let entries = 6 + 2 + 12 + 40  // header, layout + id length, cluster id, 40 fixed bytes to the entries
        func edited(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var bytes = good
            change(&bytes)
            return bytes
        }
        func expectBad(_ bytes: [UInt8], _ expected: WireError) {
            var marks = fleet.emptyWatermarks
            #expect(fleet.decoder.decode(bytes, watermarks: &marks).error == expected)
        }
        var marks = fleet.emptyWatermarks
        #expect(try fleet.decoder.decode(good, watermarks: &marks).get().sender.view.reachSubjects?.count == 3)
        let bad = WireError.badReachList(origin: origin)
        expectBad(edited { $0[entries + 1] = 3 }, bad)  // 3, 3, 30: not strictly ascending
        expectBad(edited { $0[entries + 4] = 0 }, bad)  // 1, 0, 30: descending
        expectBad(edited { $0[entries + 7] = 8 }, bad)  // lists the origin itself
        expectBad(edited { $0[entries + 7] = 40 }, bad)  // member 40 of a 40-member roster
        expectBad(edited { $0[entries + 2] = 3 }, bad)  // reach value 3 (self) is not allowed in a list
        expectBad(edited { $0[entries + 5] = 0xFF }, bad)
        expectBad(edited { $0[entries - 1] = 40 }, bad)  // entry count ≥ member count
        expectBad(edited { $0[entries - 1] = 39 }, .truncated)  // more entries than the datagram holds
        expectBad(edited { $0[entries - 1] = 2 }, .trailingBytes(count: 3))  // one entry less
        expectBad(edited { $0[entries + 1] = 2 }, .badSignature(origin: origin))  // valid list, not what was signed
    }

    @Test func theEncoderRefusesBadLists() throws {
        let fleet = try TestFleet(size: 40)
        for subjects: [Int] in [[3, 1], [1, 1], [1, 8], [1, 40]] {
            #expect(throws: EncodeError.badReachList(origin: MemberIndex(8))) { try fleet.signed(Self.listed(8, subjects: subjects)) }
        }
        var withSelf = Self.listed(8, subjects: [1, 2])
        withSelf.reach = [.reachable, .isSelf]
        #expect(throws: EncodeError.badReachList(origin: MemberIndex(8))) { try fleet.signed(withSelf) }
        var short = Self.listed(8, subjects: [1, 2])
        short.reach = [.reachable]
        #expect(throws: EncodeError.badReachList(origin: MemberIndex(8))) { try fleet.signed(short) }
    }

    /// In neighbourhood mode a receiver skips relayed views of members it does not watch, unverified,
    /// and keeps watermarks only for the members it hears from.
    @Test func relayedViewsOfStrangersAreSkippedUnverified() throws {
        let fleet = Self.fleet
        let counting = CountingVerifier()
        let decoder = DatagramDecoder(roster: fleet.roster, verifier: counting)
        let own = Self.listed(7, subjects: Self.neighbours(of: 7), sequence: 9)
        let neighbour = try fleet.signed(Self.listed(311, subjects: Self.neighbours(of: 311)))
        let stranger = try fleet.signed(Self.listed(4_242, subjects: Self.neighbours(of: 4_242)))
        let bytes = try fleet.datagram(own, relaying: [stranger, neighbour]).bytes
        var marks = ViewWatermarks(neighbors: [MemberIndex(7), MemberIndex(311)])
        let decoded = try decoder.decode(bytes, watermarks: &marks).get()
        #expect(decoded.relayed.map(\.origin) == [MemberIndex(311)])
        #expect(decoded.skippedRelayed == 1)
        #expect(counting.count == 2)
        #expect(marks[MemberIndex(4_242)] == nil)
        #expect(marks[MemberIndex(311)] == neighbour.view.version)
        // The same datagram again: a replay, rejected.
        #expect(decoder.decode(bytes, watermarks: &marks).error?.reason == "replayed")
        // A dense-storage receiver can restrict relays the same way (the agent does).
        var agentMarks = ViewWatermarks(memberCount: 10_000)
        agentMarks.wantRelayed(from: [MemberIndex(311)])
        #expect(try decoder.decode(bytes, watermarks: &agentMarks).get().relayed.map(\.origin) == [MemberIndex(311)])
    }
}

