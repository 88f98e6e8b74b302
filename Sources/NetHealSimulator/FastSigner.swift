import NetHealCore
import NetHealWire

/// A fast stand-in for Ed25519 in huge simulated fleets: a 64-byte keyed hash of (public key, message).
///
/// It is NOT a signature (anyone with the public key can make one); it only keeps the wire sizes and
/// the decoder's code path identical. A different key gives a different tag, so a datagram "signed" by a
/// non-member is still rejected. Every report of a run that used it says so.
public struct FastStandInSigner: ViewSigner {
    public let publicKey: [UInt8]

    /// A stand-in identity whose public key is 32 bytes drawn from `seed`.
    public init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var key: [UInt8] = []
        key.reserveCapacity(32)
        for _ in 0..<4 {
            let w = rng.next()
            for s in stride(from: 0, to: 64, by: 8) { key.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
        publicKey = key
    }

    public func sign(_ message: ArraySlice<UInt8>) -> [UInt8] { Self.tag(message, publicKey) }

    static func tag(_ message: ArraySlice<UInt8>, _ key: [UInt8]) -> [UInt8] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for b in message { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        var rng = SplitMix64(seed: h)
        var out = [UInt8](repeating: 0, count: 64)
        for k in 0..<8 {
            let w = rng.next()
            for s in 0..<8 { out[k * 8 + s] = UInt8(truncatingIfNeeded: w >> UInt64(s * 8)) }
        }
        return out
    }
}

/// Verifies `FastStandInSigner` tags.
public struct FastStandInVerifier: SignatureVerifier {
    public init() {}

    public func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        signature.elementsEqual(FastStandInSigner.tag(message, publicKey))
    }
}
