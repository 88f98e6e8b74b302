#if canImport(Glibc)
    import Glibc
#endif
import NetHealWire

/// Memoizes a real `SignatureVerifier` by (signature, message, public key), so that a view datagram's
/// signature, which every recipient in the simulated fleet checks, is computed once by libsodium.
///
/// Exact: a hit requires the same 64 signature bytes, the same message bytes and the same key, so the
/// answer is the one the inner verifier gave for exactly these inputs (Ed25519 verification is a pure
/// function). Only the simulator uses it; the agent verifies every datagram. Not thread-safe: one
/// simulation runs on one thread.
final class CachingVerifier: SignatureVerifier, @unchecked Sendable {
    struct Entry {
        var message: [UInt8]
        var publicKey: [UInt8]
        var valid: Bool
    }

    let inner: any SignatureVerifier
    private var cache: [SignatureKey: Entry] = [:]
    /// Verifications computed by the inner verifier, and answered from the cache.
    private(set) var computed = 0
    private(set) var memoized = 0
    static let capacity = 200_000

    init(_ inner: any SignatureVerifier) { self.inner = inner }

    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        guard signature.count == 64 else { return inner.verify(signature: signature, message: message, publicKey: publicKey) }
        let key = SignatureKey(signature)
        if let hit = cache[key], hit.publicKey == publicKey, Self.same(hit.message, message) {
            memoized += 1
            return hit.valid
        }
        computed += 1
        let valid = inner.verify(signature: signature, message: message, publicKey: publicKey)
        if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
        cache[key] = Entry(message: Array(message), publicKey: publicKey, valid: valid)
        return valid
    }
}

extension CachingVerifier {
    static func same(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
    }
}

/// The 64 signature bytes as a hashable value.
struct SignatureKey: Hashable {
    var w: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    init(_ bytes: ArraySlice<UInt8>) {
        var words = [UInt64](repeating: 0, count: 8)
        bytes.withUnsafeBytes { raw in
            for k in 0..<8 { words[k] = raw.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self) }
        }
        w = (words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7])
    }

    static func == (a: SignatureKey, b: SignatureKey) -> Bool {
        a.w.0 == b.w.0 && a.w.1 == b.w.1 && a.w.2 == b.w.2 && a.w.3 == b.w.3 && a.w.4 == b.w.4 && a.w.5 == b.w.5
            && a.w.6 == b.w.6 && a.w.7 == b.w.7
    }

    func hash(into h: inout Hasher) {
        h.combine(w.0)
        h.combine(w.1)
    }
}
