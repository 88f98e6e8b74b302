/// Makes detached Ed25519 signatures for one member's views.
///
/// The wire layer is pure: it never calls libsodium itself. `NetHealSodium.Ed25519Signer` is the real
/// implementation; the simulator may swap in a fast stand-in for very large fleets.
public protocol ViewSigner: Sendable {
    /// The public key matching the signatures this signer makes (32 bytes).
    var publicKey: [UInt8] { get }
    /// A 64-byte detached signature over `message`.
    func sign(_ message: ArraySlice<UInt8>) -> [UInt8]
    /// Appends the signature over all of `bytes` (as `sign(bytes[...])` makes it) to `bytes` and
    /// returns its length. The default calls `sign`; a signer may write in place instead (no
    /// intermediate array).
    func appendSignature(to bytes: inout [UInt8]) -> Int
}

extension ViewSigner {
    /// `sign(bytes[...])` appended to `bytes`.
    public func appendSignature(to bytes: inout [UInt8]) -> Int {
        let signature = sign(bytes[...])
        bytes.append(contentsOf: signature)
        return signature.count
    }
}

/// Checks detached Ed25519 signatures.
public protocol SignatureVerifier: Sendable {
    /// True when `signature` (64 bytes) is a valid signature of `message` under `publicKey` (32 bytes).
    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool
}
