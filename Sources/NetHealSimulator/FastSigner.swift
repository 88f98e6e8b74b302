#if canImport(Glibc)
    import Glibc
#endif
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

    /// `sign(bytes[...])` written straight onto the end of `bytes` (the same 64 bytes, no tag array).
    public func appendSignature(to bytes: inout [UInt8]) -> Int {
        var rng = SplitMix64(seed: Self.digest(bytes[...], publicKey))
        // Word k's bytes least significant first: what `tag` writes byte by byte (appended in place, no
        // zero fill first).
        for _ in 0..<8 { withUnsafeBytes(of: rng.next().littleEndian) { bytes.append(contentsOf: $0) } }
        return 64
    }

    static func tag(_ message: ArraySlice<UInt8>, _ key: [UInt8]) -> [UInt8] {
        let h = digest(message, key)
        return [UInt8](unsafeUninitializedCapacity: 64) { buffer, count in
            var rng = SplitMix64(seed: h)
            for k in 0..<8 {
                let w = rng.next()
                for s in 0..<8 { buffer[k * 8 + s] = UInt8(truncatingIfNeeded: w >> UInt64(s * 8)) }
            }
            count = 64
        }
    }

    /// A 64-bit multiply-xorshift hash of key and message, eight bytes at a time.
    static func digest(_ message: ArraySlice<UInt8>, _ key: [UInt8]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        @inline(__always) func absorb(_ raw: UnsafeRawBufferPointer) {
            var i = 0
            let n = raw.count
            while i + 8 <= n {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 29
                i += 8
            }
            while i < n {
                h = (h ^ UInt64(raw[i])) &* 0x94D0_49BB_1331_11EB
                i += 1
            }
            h = (h ^ UInt64(n)) &* 0xBF58_476D_1CE4_E5B9
        }
        key.withUnsafeBytes { absorb($0) }
        message.withUnsafeBytes { absorb($0) }
        return h
    }
}

/// Verifies `FastStandInSigner` tags.
public struct FastStandInVerifier: SignatureVerifier {
    public init() {}

    public func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        // The tag's eight words compared in place (the bytes `FastStandInSigner.tag` would write).
        var rng = SplitMix64(seed: FastStandInSigner.digest(message, publicKey))
        return signature.withUnsafeBytes { raw in
            var same = true
            for k in 0..<8 {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self))
                if word != rng.next() { same = false }
            }
            return same
        }
    }
}
