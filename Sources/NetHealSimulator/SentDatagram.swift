import NetHealWire

/// One datagram as sent, shared by every delivery of it (recipients, duplicates, replays).
///
/// The receiver-independent phase of decoding (`DatagramDecoder.parse`, views materialised) runs once,
/// on the first delivery, and its result is shared; each recipient then runs `DatagramDecoder.accept`
/// against its own watermarks, which gives exactly what `decode` would. Not thread-safe: one simulation
/// runs on one thread.
final class SentDatagram {
    /// The datagram's bytes.
    let bytes: [UInt8]
    /// After `parseOnce`: the parse, or the structural error.
    private(set) var parsed: ParsedDatagram?
    private(set) var error: WireError?
    /// After a successful `parseOnce`: the sender's view (the first), kept for relaying.
    private(set) var senderView: SignedView?
    private var done = false

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Runs the structural phase with `decoder` unless it ran already.
    @inline(__always)
    func parseOnce(by decoder: DatagramDecoder) {
        if done { return }
        done = true
        switch decoder.parse(bytes, materializeViews: true) {
        case .success(let p):
            parsed = p
            senderView = p.views.first
        case .failure(let e):
            error = e
        }
    }
}
