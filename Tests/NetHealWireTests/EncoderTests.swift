import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

@Suite struct EncoderTests {
    let fleet: TestFleet

    init() throws { fleet = try TestFleet(size: 5) }

    @Test func refusesViewsNoPeerWouldAccept() throws {
        let encoder = fleet.encoder
        let signer0 = fleet.signers[0]
        var view = fleet.view(of: 0)
        view.reach[0] = .reachable
        #expect(throws: EncodeError.badSelfSlot(origin: MemberIndex(0))) { try encoder.sign(view, with: signer0) }
        view = fleet.view(of: 0)
        view.reach[3] = .isSelf
        #expect(throws: EncodeError.badSelfSlot(origin: MemberIndex(0))) { try encoder.sign(view, with: signer0) }
        view = fleet.view(of: 0)
        view.reach.append(.reachable)
        #expect(throws: EncodeError.memberCountMismatch(got: 6, expected: 5)) { try encoder.sign(view, with: signer0) }
        view = fleet.view(of: 0)
        view.origin = MemberIndex(5)
        #expect(throws: EncodeError.unknownOrigin(MemberIndex(5))) { try encoder.sign(view, with: signer0) }
        // The node's secret key is not the one the cluster file lists for it.
        #expect(throws: EncodeError.signerKeyMismatch(origin: MemberIndex(1))) {
            try encoder.encode(fleet.view(of: 1), signer: signer0)
        }
    }

    @Test func refusesBadClusterIDsAndRostersTooLargeForOneDatagram() throws {
        for id in ["", String(repeating: "é", count: 33)] {
            var roster = fleet.roster
            roster.clusterID = id
            #expect(throws: EncodeError.badClusterID(byteCount: id.utf8.count)) {
                try DatagramEncoder(roster: roster).sign(fleet.view(of: 0), with: fleet.signers[0])
            }
        }
        let limit = WireFormat.maxMembers(clusterIDBytes: 12)
        let members = (0...limit).map { ClusterRoster.Member(name: "m\($0)", publicKey: fleet.signers[0].publicKey) }
        let reach = (0...limit).map { $0 == 0 ? Reach.isSelf : .unknown }
        let view = ReachabilityView(
            origin: MemberIndex(0), incarnation: 1, sequence: 1, originTimeMillis: 0, configDigest: 0, upstream: .up,
            decision: .healthy, reach: reach)
        let tooLarge = DatagramEncoder(roster: ClusterRoster(clusterID: "test-cluster", members: members))
        #expect(throws: EncodeError.tooLarge(byteCount: 1401)) { try tooLarge.encode(view, signer: fleet.signers[0]) }
        // One member fewer fits exactly.
        let fits = DatagramEncoder(roster: ClusterRoster(clusterID: "test-cluster", members: Array(members.dropLast())))
        let encoded = try fits.encode(
            ReachabilityView(
                origin: MemberIndex(0), incarnation: 1, sequence: 1, originTimeMillis: 0, configDigest: 0,
                upstream: .up, decision: .healthy, reach: Array(reach.dropLast())),
            signer: fleet.signers[0])
        #expect(encoded.bytes.count == 1400)
        // Exactly 1,400 bytes is accepted; one byte more is oversize.
        var marks = ViewWatermarks()
        let decoder = DatagramDecoder(roster: fits.roster, verifier: Ed25519Verifier())
        #expect(decoder.decode(encoded.bytes, watermarks: &marks).datagram?.sender == encoded.sender)
        #expect(decoder.decode(encoded.bytes + [0], watermarks: &marks).error == .oversize(byteCount: 1401))
    }

    @Test func relayedViewsOfTheSenderOrRepeatedOriginsAreDropped() throws {
        let r0 = try fleet.signed(fleet.view(of: 0, sequence: 3))
        let r3 = try fleet.signed(fleet.view(of: 3, sequence: 3))
        let r3b = try fleet.signed(fleet.view(of: 3, sequence: 4))
        let encoded = try fleet.datagram(fleet.view(of: 0, sequence: 5), relaying: [r0, r3, r3b])
        #expect(encoded.relayedCount == 1 && encoded.droppedRelayed == 2)
        var marks = fleet.emptyWatermarks
        let decoded = try fleet.decoder.decode(encoded.bytes, watermarks: &marks).get()
        #expect(decoded.relayed == [r3])
    }

    @Test func relayedViewsOfAnotherRosterAreDropped() throws {
        // Other member count; other cluster id of the same length; and a roster whose views happen to have
        // the same length (11-byte id, 9 members: 104 + 11 + 3 = 118 = 104 + 12 + 2).
        let foreign = [try TestFleet(size: 9), try TestFleet(size: 5, clusterID: "test-clustex"),
                       try TestFleet(size: 9, clusterID: "test-cluste")]
        let views = try foreign.map { try $0.signed($0.view(of: 3)) }
        #expect(views[2].bytes.count == fleet.encoder.viewBytes)
        let encoded = try fleet.datagram(fleet.view(of: 0), relaying: views)
        #expect(encoded.relayedCount == 0 && encoded.droppedRelayed == 3)
    }

    @Test func everyDatagramOfASenderIsUniqueBecauseTheSequenceChanges() throws {
        let a = try fleet.datagram(fleet.view(of: 1, sequence: 1)).bytes
        let b = try fleet.datagram(fleet.view(of: 1, sequence: 2)).bytes
        #expect(a != b)
        // Signing is deterministic (RFC 8032): the same view gives the same bytes.
        #expect(try fleet.datagram(fleet.view(of: 1, sequence: 1)).bytes == a)
    }
}
