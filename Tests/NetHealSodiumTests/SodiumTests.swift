import NetHealSodium
import NetHealCore
import Testing

@Suite struct SodiumTests {
    @Test func signAndVerifyRoundTrip() throws {
        let signer = try Ed25519Signer(seed: [UInt8](repeating: 7, count: 32))
        let message: [UInt8] = Array("hello".utf8)
        let sig = signer.sign(message[...])
        #expect(sig.count == 64)
        #expect(Ed25519Verifier().verify(signature: sig[...], message: message[...], publicKey: signer.publicKey))
        var tampered = message
        tampered[0] ^= 1
        #expect(!Ed25519Verifier().verify(signature: sig[...], message: tampered[...], publicKey: signer.publicKey))
    }

    @Test func rfc8032TestVector1() throws {
        // RFC 8032 section 7.1, TEST 1: empty message.
        let seed = Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
        let signer = try Ed25519Signer(seed: seed)
        #expect(Hex.encode(signer.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let sig = signer.sign([][...])
        #expect(Hex.encode(sig) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    }

    @Test func wrongLengthsAreInvalidNotCrashes() throws {
        #expect(!Sodium.verifyDetached(signature: [1, 2, 3][...], message: [][...], publicKey: [0]))
        #expect(throws: SodiumError.self) { try Sodium.keyPair(seed: [1, 2]) }
    }

    @Test func hexRoundTripAndRejects() {
        #expect(Hex.decode("00ffA0") == [0, 255, 160])
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.encode([1, 0xab]) == "01ab")
    }
}
