import NetHealCore

/// A datagram that passed the receiver-independent checks of `DatagramDecoder.parse` (phase 1 of
/// `decode`): size, header, and every view's fields, layout, bitmap or list. Nothing in it is trusted
/// yet: freshness and signatures are checked per receiver by `DatagramDecoder.accept`.
///
/// One parse can be shared by every receiver of the same bytes (the simulator delivers one sent
/// datagram to many members); `accept` gives each the same result `decode` would.
public struct ParsedDatagram: Sendable {
    /// The datagram's bytes.
    let bytes: ArraySlice<UInt8>
    /// The fixed fields of each view, in datagram order.
    let headers: [DatagramDecoder.Header]
    /// Every view materialised, in datagram order, when `parse` was asked to; else empty (then
    /// `accept` materialises only the views it accepts). Not verified: trust only what `accept` returns.
    public internal(set) var views: [SignedView]

    /// The number of views in the datagram (the sender's first).
    public var viewCount: Int { headers.count }
    /// The origin of each view, in datagram order.
    public var origins: [MemberIndex] { headers.map(\.origin) }
}

extension DatagramDecoder {
    /// Phase 1 of `decode`: every check that does not depend on the receiver (size, header, each view's
    /// structure). With `materializeViews` the views are decoded once here, so that receivers sharing
    /// this parse share them too; `decode` itself does not ask for it.
    public func parse(_ bytes: some Collection<UInt8>, materializeViews: Bool = false) -> Result<ParsedDatagram, WireError> {
        if let slice = bytes as? ArraySlice<UInt8> { return parse(slice: slice, materializeViews: materializeViews) }
        if let array = bytes as? [UInt8] { return parse(slice: array[...], materializeViews: materializeViews) }
        let count = bytes.count
        guard count <= WireFormat.maxDatagramBytes else { return .failure(.oversize(byteCount: count)) }
        return parse(slice: Array(bytes)[...], materializeViews: materializeViews)
    }

    /// Phase 2 of `decode`, for one receiver: freshness against `watermarks` (a stale sender's view
    /// rejects, stale or unwanted relayed views are skipped), the signatures of the views that would be
    /// accepted, then acceptance. `parse` followed by `accept` returns exactly what `decode` returns and
    /// leaves the watermarks exactly as `decode` leaves them (advanced only on success).
    public func accept(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, skipRule: RelaySkipRule? = nil
    ) -> Result<DecodedDatagram, WireError> {
        acceptParsed(parsed, watermarks: &watermarks, skipRule: skipRule)
    }
}

/// Which views of a parsed datagram one receiver accepts (`DatagramDecoder.acceptedViews`): the
/// sender's view (index 0) always, relayed views unless skipped.
public struct AcceptedViews: Sendable, Equatable {
    /// Bit i set: view i is accepted.
    public var bits: UInt64
    /// Relayed views skipped unverified (stale, not of a neighbour, or judged redundant).
    public var skippedRelayed: Int
    /// Of those, newer views a `RelayRedundancyJudge` judged redundant. Default 0.
    public var skippedRedundant: Int

    /// Views `bits` accepted, `skippedRelayed` relayed views skipped (`skippedRedundant` of them as redundant).
    public init(bits: UInt64, skippedRelayed: Int, skippedRedundant: Int = 0) {
        self.bits = bits
        self.skippedRelayed = skippedRelayed
        self.skippedRedundant = skippedRedundant
    }

    /// True when view `index` is accepted.
    public func contains(_ index: Int) -> Bool { index < 64 && bits & (1 << UInt64(index)) != 0 }
}

extension ParsedDatagram {
    /// The origin and version of view `index` (datagram order), read from the parse (not verified).
    public func version(at index: Int) -> (origin: MemberIndex, version: ViewVersion) {
        (headers[index].origin, headers[index].version)
    }
}

extension DatagramDecoder {
    /// View `index` of `parsed` (datagram order) as a signed view, decoded from its bytes. Not
    /// verified: trust it only for indexes `acceptedViews` accepted.
    public func signedView(_ parsed: ParsedDatagram, at index: Int) -> SignedView {
        signedView(parsed.headers[index], in: parsed.bytes)
    }
}
