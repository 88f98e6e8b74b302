import NetHealCore
import Synchronization
import NetHealWire

/// One datagram as sent, shared by every delivery of it (recipients, duplicates, replays).
///
/// The receiver-independent phase of decoding (`DatagramDecoder.parse`) runs once, when the datagram
/// is made, and its result is shared; each recipient then runs `DatagramDecoder.acceptedViews` against
/// its own watermarks, which accepts exactly the views `decode` would. The views are materialised once
/// too. For a datagram the simulator encoded, the parse and views come from the encoder
/// (`DatagramEncoder.encodeParsed`: the sender's signed view and the relayed ones, equal to what
/// `parse` and a decode of the bytes give); bytes injected by a fault are parsed and decoded.
/// Everything is immutable after init (no access checks on the hot path) except the `knownValid`
/// cache, an atomic: the two threads of the parallel engine (`Simulation+Parallel.swift`) may
/// deliver the same datagram at once. A lost update of the cache only costs a repeated (pure,
/// uncounted) verification, never a different answer.
final class SentDatagram: @unchecked Sendable {
    /// The datagram's bytes.
    let bytes: [UInt8]
    /// The parse, or nil when the bytes are structurally invalid (then `error`).
    let parsed: ParsedDatagram?
    let error: WireError?
    /// Every view in datagram order (the sender's first, kept for relaying); empty when not parsed.
    let views: [SignedView]
    /// `views[0].view` (a placeholder when not parsed): a constant of the datagram, so that handing it to
    /// each recipient's policy borrows it instead of copying it per delivery.
    let senderReach: ReachabilityView
    /// The sender's signed view in a box of its own, which receivers keep for relaying (`remember`):
    /// a slot holds one reference (one count to move, eight bytes), and the datagram itself is freed
    /// after its last delivery. nil when not parsed.
    let kept: KeptView?
    /// Where `views` keeps its elements (a prefetch hint, read through an unretained reference while a
    /// delivery of this datagram waits in the queue: `Simulation+Prefetch.swift`).
    let viewsAddress: UInt
    /// The origins of the first relayed views (views 1…3), 16 bits each from bit 0, 0xFFFF for none: a
    /// prefetch hint too (the receiver's cells for them).
    let relayedOrigins: UInt64
    /// Where the sender's view keeps its reach values and (listed layout) its subjects, 0 for none: the
    /// receiver's core reads both (prefetch hints too).
    let senderReachAddress: UInt
    let senderSubjectsAddress: UInt
    /// Bit i: view i of these bytes verified (only kept where verification is pure and uncounted: the
    /// fast stand-in signer; the real one is memoized and counted by `CachingVerifier`).
    private let knownBits = Atomic<UInt64>(0)
    /// The check of the sender's signature queued for the verifying thread (`VerifyAhead.swift`), nil
    /// when there is none (the stand-in signer, no verifying thread, injected bytes).
    let ahead: AheadCheck?

    /// The cached verification bits (relaxed: a plain load on x86-64 and arm64).
    @inline(__always)
    var knownValid: UInt64 { knownBits.load(ordering: .relaxed) }

    /// Adds `bits` to the cache (no-op when nothing new).
    @inline(__always)
    func learnValid(_ bits: UInt64, had old: UInt64) {
        if bits != old { knownBits.bitwiseOr(bits, ordering: .relaxed) }
    }

    /// Bytes injected by a fault: parsed, and every view decoded from them.
    init(_ bytes: [UInt8], decoder: DatagramDecoder) {
        self.bytes = bytes
        ahead = nil
        switch decoder.parse(bytes, materializeViews: false) {
        case .success(let p):
            parsed = p
            error = nil
            views = (0..<p.viewCount).map { decoder.signedView(p, at: $0) }
            senderReach = views[0].view
            kept = KeptView(views[0])
            viewsAddress = elementsAddress(views)
            relayedOrigins = Self.relayedOrigins(of: views)
            (senderReachAddress, senderSubjectsAddress) = Self.arrays(of: views[0].view)
        case .failure(let e):
            parsed = nil
            error = e
            views = []
            viewsAddress = 0
            relayedOrigins = .max
            (senderReachAddress, senderSubjectsAddress) = (0, 0)
            kept = nil
            senderReach = ReachabilityView(
                origin: MemberIndex(rawValue: 0), incarnation: 0, sequence: 0, originTimeMillis: 0, configDigest: 0,
                upstream: .unknown, decision: .starting, reach: [])
        }
    }

    /// A datagram the simulator encoded: the encoder's parse and views (the very bytes of the datagram,
    /// so the very parse and views `decoder.parse` and a decode give; NetHealWireTests pin this).
    /// `ahead`: the sender's signature check queued for the verifying thread, if any.
    init(_ made: ParsedEncodedDatagram, ahead: AheadCheck? = nil) {
        bytes = made.bytes
        self.ahead = ahead
        parsed = made.parsed
        error = nil
        views = made.parsed.views
        senderReach = views[0].view
        kept = KeptView(views[0])
        viewsAddress = elementsAddress(views)
        relayedOrigins = Self.relayedOrigins(of: views)
        (senderReachAddress, senderSubjectsAddress) = Self.arrays(of: views[0].view)
    }

    /// Where `view`'s reach values and subjects are (0 for none).
    private static func arrays(of view: ReachabilityView) -> (UInt, UInt) {
        (elementsAddress(view.reach), view.reachSubjects.map(elementsAddress) ?? 0)
    }

    /// `relayedOrigins` of `views`.
    private static func relayedOrigins(of views: [SignedView]) -> UInt64 {
        var packed: UInt64 = .max
        for k in 1..<min(views.count, 4) {
            let shift = UInt64(16 * (k - 1))
            packed = packed & ~(0xFFFF << shift) | UInt64(views[k].view.origin.rawValue) << shift
        }
        return packed
    }


    /// The origin of view `k` (datagram order).
    @inline(__always)
    func origin(_ k: Int) -> MemberIndex { views[k].view.origin }

    /// The version of view `k` (datagram order).
    @inline(__always)
    func version(_ k: Int) -> ViewVersion {
        let v = views[k].view
        return ViewVersion(incarnation: v.incarnation, sequence: v.sequence)
    }
}

/// A sender's signed view as a receiver keeps it for relaying: shared by every receiver of the datagram
/// that carried it, immutable.
final class KeptView: @unchecked Sendable {
    /// The sender's view exactly as the datagram carried it (fields and signed bytes).
    let view: SignedView
    /// Where `view.bytes` keeps its bytes (a prefetch hint: `Simulation+Prefetch.swift`).
    let bytesAddress: UInt
    init(_ view: SignedView) {
        self.view = view
        bytesAddress = elementsAddress(view.bytes)
    }
}

/// The address of `array`'s first element (0 when it has no storage): a prefetch hint.
private func elementsAddress<T>(_ array: [T]) -> UInt {
    array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
}
