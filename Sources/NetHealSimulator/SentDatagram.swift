import NetHealWire

/// One datagram as sent, shared by every delivery of it (recipients, duplicates, replays).
///
/// The receiver-independent phase of decoding (`DatagramDecoder.parse`) runs once, on the first
/// delivery, and its result is shared; each recipient then runs `DatagramDecoder.acceptedViews` against
/// its own watermarks, which accepts exactly the views `decode` would. The views are materialised once
/// here: the sender's from the bytes, relayed ones taken from the signed views the sender relayed (the
/// very same bytes, so the same views; bytes injected by a fault are all decoded from the bytes).
/// Not thread-safe: one simulation runs on one thread.
final class SentDatagram {
    /// The datagram's bytes.
    let bytes: [UInt8]
    /// After `parseOnce`: the parse, or the structural error.
    private(set) var parsed: ParsedDatagram?
    private(set) var error: WireError?
    /// After a successful `parseOnce`: every view in datagram order (the sender's first, kept for relaying).
    private(set) var views: [SignedView] = []
    /// Bit i: view i of these bytes verified (only kept where verification is pure and uncounted: the
    /// fast stand-in signer; the real one is memoized and counted by `CachingVerifier`).
    var knownValid: UInt64 = 0
    /// The signed views the sender relayed, in datagram order (nil: injected bytes).
    private var relayed: [SignedView]?
    private var done = false

    init(_ bytes: [UInt8], relayed: [SignedView]? = nil) {
        self.bytes = bytes
        self.relayed = relayed
    }

    /// After a successful `parseOnce`: the sender's view.
    var senderView: SignedView? { views.first }

    /// Runs the structural phase with `decoder` unless it ran already.
    @inline(__always)
    func parseOnce(by decoder: DatagramDecoder) {
        if done { return }
        done = true
        switch decoder.parse(bytes, materializeViews: false) {
        case .success(let p):
            parsed = p
            views.reserveCapacity(p.viewCount)
            views.append(decoder.signedView(p, at: 0))
            if let relayed, relayed.count == p.viewCount - 1, zip(relayed, 1...).allSatisfy({ $0.version == p.version(at: $1).version && $0.origin == p.version(at: $1).origin }) {
                views += relayed
            } else {
                for k in 1..<p.viewCount { views.append(decoder.signedView(p, at: k)) }
            }
        case .failure(let e):
            error = e
        }
        relayed = nil
    }
}
