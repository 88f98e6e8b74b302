import NetHealWire

/// A member's Ed25519 signing identity, backed by libsodium.
public struct Ed25519Signer: ViewSigner {
    /// The 32-byte public key.
    public let publicKey: [UInt8]
    private let secretKey: [UInt8]

    /// The key pair derived from a 32-byte seed (the content of a secret key file).
    public init(seed: [UInt8]) throws {
        let pair = try Sodium.keyPair(seed: seed)
        self.publicKey = pair.publicKey
        self.secretKey = pair.secretKey
    }

    /// A fresh random identity.
    public static func generate() throws -> (seed: [UInt8], signer: Ed25519Signer) {
        let seed = try Sodium.randomBytes(Sodium.seedBytes)
        return (seed, try Ed25519Signer(seed: seed))
    }

    public func sign(_ message: ArraySlice<UInt8>) -> [UInt8] {
        do {
            return try Sodium.signDetached(message, secretKey: secretKey)
        } catch {
            // The key length was checked at init; crypto_sign_detached cannot fail otherwise.
            preconditionFailure("\(error)")
        }
    }
}

/// Verifies Ed25519 signatures with libsodium.
public struct Ed25519Verifier: SignatureVerifier {
    public init() {}

    public func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        Sodium.verifyDetached(signature: signature, message: message, publicKey: publicKey)
    }
}
