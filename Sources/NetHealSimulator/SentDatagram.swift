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
    /// The sender's signed view as the encoder made it and the views it relayed, in datagram order
    /// (nil: injected bytes).
    private var made: [SignedView]?
    private var done = false

    /// Bytes injected by a fault: every view is decoded from them.
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// A datagram the simulator encoded: its views are the encoder's signed view of the sender and the
    /// relayed signed views, byte for byte the views in `datagram.bytes`.
    init(_ datagram: EncodedDatagram, relayed: [SignedView]) {
        bytes = datagram.bytes
        var views = [datagram.sender]
        if datagram.droppedRelayed == 0 { views += relayed }
        made = views
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
            if let made, made.count == p.viewCount,
                made.indices.allSatisfy({ made[$0].origin == p.version(at: $0).origin && made[$0].version == p.version(at: $0).version })
            {
                views = made
            } else {
                views.reserveCapacity(p.viewCount)
                for k in 0..<p.viewCount { views.append(decoder.signedView(p, at: k)) }
            }
        case .failure(let e):
            error = e
        }
        made = nil
    }
}
