import Foundation
import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Counts Ed25519 verifications: relayed copies the receiver already has must cost none.
final class CountingVerifier: SignatureVerifier, @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0

    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        lock.withLock { calls += 1 }
        return Ed25519Verifier().verify(signature: signature, message: message, publicKey: publicKey)
    }

    var count: Int { lock.withLock { calls } }
}

@Suite struct VerificationCostTests {
    @Test func onlyViewsThatWouldBeAcceptedAreVerified() throws {
        let fleet = try TestFleet(size: 1000)
        let counter = CountingVerifier()
        let decoder = DatagramDecoder(roster: fleet.roster, verifier: counter)
        var marks = fleet.emptyWatermarks
        let r1 = try fleet.signed(fleet.view(of: 1, sequence: 5))
        let r2 = try fleet.signed(fleet.view(of: 2, sequence: 5))

        _ = try decoder.decode(try fleet.datagram(fleet.view(of: 0), relaying: [r1, r2]).bytes, watermarks: &marks).get()
        #expect(counter.count == 3)
        // The same relayed copies from another sender: only the sender's view is verified.
        let again = try decoder.decode(try fleet.datagram(fleet.view(of: 3), relaying: [r1, r2]).bytes, watermarks: &marks).get()
        #expect(again.skippedRelayed == 2 && counter.count == 4)
        // Rejected before any signature: replayed sender, structural errors.
        let replay = try fleet.datagram(fleet.view(of: 3), relaying: [r1]).bytes
        #expect(decoder.decode(replay, watermarks: &marks).error?.reason == "replayed")
        #expect(decoder.decode(Array(replay.dropLast()), watermarks: &marks).error == .truncated)
        #expect(counter.count == 4)
    }

    @Test func aBadSenderSignatureStopsBeforeTheRelayedOnes() throws {
        let fleet = try TestFleet(size: 5)
        let counter = CountingVerifier()
        let decoder = DatagramDecoder(roster: fleet.roster, verifier: counter)
        let relays = try [1, 2, 3].map { try fleet.signed(fleet.view(of: $0)) }
        var bytes = try fleet.datagram(fleet.view(of: 0), relaying: relays).bytes
        bytes[6 + 117] ^= 0x80  // last signature byte of the sender's view
        var marks = fleet.emptyWatermarks
        #expect(decoder.decode(bytes, watermarks: &marks).error == .badSignature(origin: MemberIndex(0)))
        #expect(counter.count == 1)
    }
}
