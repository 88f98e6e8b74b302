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
    private var cached: Result<ParsedDatagram, WireError>?

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The sender's view (the first) of a datagram a recipient accepted, i.e. whose parse succeeded.
    var senderView: SignedView? {
        if case .success(let parsed)? = cached { return parsed.views.first }
        return nil
    }

    /// The structural parse of `bytes` by `decoder` (computed on first use).
    func parsed(by decoder: DatagramDecoder) -> Result<ParsedDatagram, WireError> {
        if let cached { return cached }
        let result = decoder.parse(bytes, materializeViews: true)
        cached = result
        return result
    }
}
