import CSodium

/// An error from libsodium, naming the call that failed.
public struct SodiumError: Error, CustomStringConvertible, Equatable {
    /// The libsodium function that failed.
    public var call: String
    /// Its return code.
    public var code: Int32

    public var description: String { "libsodium \(call) failed (return code \(code))" }
}

/// The one place that calls libsodium. Every return code is checked.
public enum Sodium {
    /// Ed25519 seed length in bytes (32).
    public static let seedBytes = Int(crypto_sign_SEEDBYTES)
    /// Ed25519 public key length in bytes (32).
    public static let publicKeyBytes = Int(crypto_sign_PUBLICKEYBYTES)
    /// Ed25519 secret key length in bytes (64: seed followed by public key).
    public static let secretKeyBytes = Int(crypto_sign_SECRETKEYBYTES)
    /// Ed25519 signature length in bytes (64).
    public static let signatureBytes = Int(crypto_sign_BYTES)

    private static let initialized: Bool = sodium_init() >= 0

    /// Initializes libsodium once; throws when it cannot be initialized.
    public static func ensureInitialized() throws {
        guard initialized else { throw SodiumError(call: "sodium_init", code: -1) }
    }

    /// `count` bytes from libsodium's CSPRNG.
    public static func randomBytes(_ count: Int) throws -> [UInt8] {
        try ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return out
    }

    /// The Ed25519 key pair derived from a 32-byte seed.
    public static func keyPair(seed: [UInt8]) throws -> (publicKey: [UInt8], secretKey: [UInt8]) {
        try ensureInitialized()
        guard seed.count == seedBytes else { throw SodiumError(call: "crypto_sign_seed_keypair(seed length \(seed.count))", code: -1) }
        var pk = [UInt8](repeating: 0, count: publicKeyBytes)
        var sk = [UInt8](repeating: 0, count: secretKeyBytes)
        let rc = crypto_sign_seed_keypair(&pk, &sk, seed)
        guard rc == 0 else { throw SodiumError(call: "crypto_sign_seed_keypair", code: rc) }
        return (pk, sk)
    }

    /// A detached Ed25519 signature of `message` with a 64-byte secret key.
    public static func signDetached(_ message: ArraySlice<UInt8>, secretKey: [UInt8]) throws -> [UInt8] {
        guard secretKey.count == secretKeyBytes else { throw SodiumError(call: "crypto_sign_detached(secret key length \(secretKey.count))", code: -1) }
        var sig = [UInt8](repeating: 0, count: signatureBytes)
        let rc = message.withUnsafeBufferPointer { m in
            crypto_sign_detached(&sig, nil, m.baseAddress, UInt64(m.count), secretKey)
        }
        guard rc == 0 else { throw SodiumError(call: "crypto_sign_detached", code: rc) }
        return sig
    }

    /// True when `signature` is a valid Ed25519 signature of `message` under `publicKey`.
    /// Wrong lengths are simply invalid (never a crash).
    public static func verifyDetached(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        guard initialized, signature.count == signatureBytes, publicKey.count == publicKeyBytes else { return false }
        return signature.withUnsafeBufferPointer { s in
            message.withUnsafeBufferPointer { m in
                crypto_sign_verify_detached(s.baseAddress!, m.baseAddress, UInt64(m.count), publicKey) == 0
            }
        }
    }

    /// BLAKE2b (crypto_generichash) of `data`, `length` bytes long (16...64).
    public static func blake2b(_ data: ArraySlice<UInt8>, length: Int = 32) throws -> [UInt8] {
        try ensureInitialized()
        var out = [UInt8](repeating: 0, count: length)
        let rc = data.withUnsafeBufferPointer { d in
            crypto_generichash(&out, length, d.baseAddress, UInt64(d.count), nil, 0)
        }
        guard rc == 0 else { throw SodiumError(call: "crypto_generichash", code: rc) }
        return out
    }
}
