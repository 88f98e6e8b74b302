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
    /// The check the verifying thread may have computed ahead for the datagram being decoded
    /// (`VerifyAhead.swift`): used only for exactly its inputs, and counted as `computed`.
    var ahead: AheadCheck?
    /// Of `computed`: answers the verifying thread had ready; answers taken as valid before it was done
    /// (`unconfirmed` until it is); checks this thread computed although they were queued for it.
    private(set) var answeredAhead = 0
    private(set) var speculated = 0
    private(set) var stolen = 0
    /// Checks answered "valid" before the verifying thread had computed them, oldest first. Each is
    /// confirmed when done (`confirmSettled`, `confirmAll`); one that turns out invalid sets `refuted`,
    /// and the run is discarded and run again without the thread (`SimulationRunner`).
    private var unconfirmed: [AheadCheck] = []
    private var unconfirmedStart = 0
    private(set) var refuted = false
    /// At most this many unconfirmed checks: beyond it this thread computes (or awaits) the answer itself,
    /// which also balances the two threads when the verifying one falls behind.
    static let unconfirmedLimit = 256
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
        let valid: Bool
        if let ahead, ahead.matches(signature: signature, message: message, publicKey: publicKey) {
            confirmSettled()
            if let known = ahead.settled {
                valid = known
                answeredAhead += 1
            } else if unconfirmed.count - unconfirmedStart < Self.unconfirmedLimit {
                // The simulator's own signer made this signature for this key: take it as valid now and
                // confirm the thread's answer later.
                valid = true
                speculated += 1
                unconfirmed.append(ahead)
            } else {
                let answer = ahead.answer()
                valid = answer.valid
                if answer.stolen { stolen += 1 } else { answeredAhead += 1 }
            }
        } else {
            valid = inner.verify(signature: signature, message: message, publicKey: publicKey)
        }
        if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
        cache[key] = Entry(message: Array(message), publicKey: publicKey, valid: valid)
        return valid
    }
}

extension CachingVerifier {
    /// Drops the oldest unconfirmed checks that are done; sets `refuted` if one was invalid.
    func confirmSettled() {
        while unconfirmedStart < unconfirmed.count, let valid = unconfirmed[unconfirmedStart].settled {
            if !valid { refuted = true }
            unconfirmedStart += 1
        }
        if unconfirmedStart > 1024, unconfirmedStart * 2 > unconfirmed.count {
            unconfirmed.removeFirst(unconfirmedStart)
            unconfirmedStart = 0
        }
    }

    /// Confirms every unconfirmed check (computing the ones nobody started); returns false when one was
    /// invalid (`refuted`).
    func confirmAll() -> Bool {
        for k in unconfirmedStart..<unconfirmed.count where !unconfirmed[k].answer().valid { refuted = true }
        unconfirmed.removeAll()
        unconfirmedStart = 0
        return !refuted
    }

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
