import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// A member may list two keys during a rotation (`publicKey`, `nextPublicKey`): a view verifies under
/// either, never under a third; the second key costs at most one extra verification.
@Suite struct KeyRotationTests {
    /// The test fleet of 5, with member 2 also listing `next` as its next key.
    private func rotating(_ fleet: TestFleet, next: [UInt8]) -> ClusterRoster {
        var roster = fleet.roster
        roster.members[2].nextPublicKey = next
        return roster
    }

    private let newSeed = TestFleet.seed(for: 1_002)
    private let strangerSeed = TestFleet.seed(for: 9_999)

    @Test func eitherListedKeyVerifiesAThirdDoesNot() throws {
        let fleet = try TestFleet(size: 5)
        let newSigner = try Ed25519Signer(seed: newSeed)
        let stranger = try Ed25519Signer(seed: strangerSeed)
        let roster = rotating(fleet, next: newSigner.publicKey)
        #expect(roster.members[2].acceptedKeys == [fleet.signers[2].publicKey, newSigner.publicKey])
        let decoder = DatagramDecoder(roster: roster, verifier: Ed25519Verifier())
        var marks = fleet.emptyWatermarks

        // Signed with the current key, then with the next key (the sender switched keys), both accepted.
        let old = try fleet.datagram(fleet.view(of: 2, sequence: 1)).bytes
        #expect(try decoder.decode(old, watermarks: &marks).get().sender.origin == MemberIndex(2))
        let new = try DatagramEncoder(roster: roster).encode(fleet.view(of: 2, sequence: 2), signer: newSigner).bytes
        #expect(try decoder.decode(new, watermarks: &marks).get().sender.version.sequence == 2)

        // A third key, correctly signed otherwise, is rejected and moves no watermark. The encoder of
        // a roster with both keys would refuse it, so the signature is made by hand.
        let forged = Raw.datagram([
            Raw.resigned(try fleet.signed(fleet.view(of: 2, sequence: 3)).bytes, by: stranger) { _ in }
        ])
        expectRejected(forged, .badSignature(origin: MemberIndex(2)), decoder: decoder, watermarks: marks)
        // The next key of member 2 is not a key of any other member.
        let posing = Raw.datagram([
            Raw.resigned(try fleet.signed(fleet.view(of: 3, sequence: 3)).bytes, by: newSigner) { _ in }
        ])
        expectRejected(posing, .badSignature(origin: MemberIndex(3)), decoder: decoder, watermarks: marks)
    }

    @Test func aRelayedViewSignedWithTheNextKeyIsAccepted() throws {
        let fleet = try TestFleet(size: 5)
        let newSigner = try Ed25519Signer(seed: newSeed)
        let roster = rotating(fleet, next: newSigner.publicKey)
        let encoder = DatagramEncoder(roster: roster)
        let relayed = try encoder.sign(fleet.view(of: 2, sequence: 9), with: newSigner)
        let bytes = try encoder.encode(fleet.view(of: 0), signer: fleet.signers[0], relaying: [relayed]).bytes
        var marks = fleet.emptyWatermarks
        let decoded = try DatagramDecoder(roster: roster, verifier: Ed25519Verifier()).decode(bytes, watermarks: &marks).get()
        #expect(decoded.relayed.map(\.bytes) == [relayed.bytes])
        #expect(marks[MemberIndex(2)] == ViewVersion(incarnation: 1, sequence: 9))
    }

    @Test func theEncoderTakesEitherListedKeyOnly() throws {
        let fleet = try TestFleet(size: 5)
        let newSigner = try Ed25519Signer(seed: newSeed)
        let roster = rotating(fleet, next: newSigner.publicKey)
        let encoder = DatagramEncoder(roster: roster)
        #expect(throws: Never.self) { try encoder.sign(fleet.view(of: 2), with: fleet.signers[2]) }
        #expect(throws: Never.self) { try encoder.sign(fleet.view(of: 2), with: newSigner) }
        #expect(throws: EncodeError.signerKeyMismatch(origin: MemberIndex(2))) {
            try encoder.sign(fleet.view(of: 2), with: Ed25519Signer(seed: strangerSeed))
        }
        // Without the next key listed, the new key is refused: a node must not switch keys early.
        #expect(throws: EncodeError.signerKeyMismatch(origin: MemberIndex(2))) {
            try fleet.encoder.sign(fleet.view(of: 2), with: newSigner)
        }
    }

    @Test func theSecondKeyCostsAtMostOneExtraVerification() throws {
        let fleet = try TestFleet(size: 5)
        let newSigner = try Ed25519Signer(seed: newSeed)
        let roster = rotating(fleet, next: newSigner.publicKey)
        let encoder = DatagramEncoder(roster: roster)
        let counter = CountingVerifier()
        let decoder = DatagramDecoder(roster: roster, verifier: counter)
        var marks = fleet.emptyWatermarks

        // Current key: one verification.
        _ = try decoder.decode(try fleet.datagram(fleet.view(of: 2, sequence: 1)).bytes, watermarks: &marks).get()
        #expect(counter.count == 1)
        // Next key: the current key fails first, then the next key verifies.
        _ = try decoder.decode(try encoder.encode(fleet.view(of: 2, sequence: 2), signer: newSigner).bytes, watermarks: &marks).get()
        #expect(counter.count == 3)
        // A forgery for the rotating member costs two, and stops there.
        let forged = Raw.datagram([
            Raw.resigned(try fleet.signed(fleet.view(of: 2, sequence: 3)).bytes, by: try Ed25519Signer(seed: strangerSeed)) { _ in }
        ])
        #expect(decoder.decode(forged, watermarks: &marks).error == .badSignature(origin: MemberIndex(2)))
        #expect(counter.count == 5)
        // A forgery for a member with one key still costs one.
        var bad = try fleet.datagram(fleet.view(of: 4, sequence: 3)).bytes
        bad[bad.count - 1] ^= 0x01
        #expect(decoder.decode(bad, watermarks: &marks).error == .badSignature(origin: MemberIndex(4)))
        #expect(counter.count == 6)
    }
}
