import NetHealCore

/// A datagram that passed the receiver-independent checks of `DatagramDecoder.parse` (phase 1 of
/// `decode`): size, header, and every view's fields, layout, bitmap or list. Nothing in it is trusted
/// yet: freshness and signatures are checked per receiver by `DatagramDecoder.accept`.
///
/// One parse can be shared by every receiver of the same bytes (the simulator delivers one sent
/// datagram to many members); `accept` gives each the same result `decode` would.
public struct ParsedDatagram: @unchecked Sendable {
    /// The parse, immutable once made and shared by every copy (a copy retains one object): the bytes
    /// and views in the object's header, the views' fixed fields tail-allocated after them. Never
    /// written after `parse` returns, hence `@unchecked Sendable` (a `ManagedBuffer` is not `Sendable`).
    let storage: ParsedStorage

    /// The datagram's bytes.
    var bytes: ArraySlice<UInt8> { storage.withUnsafeMutablePointerToHeader { $0.pointee.bytes } }
    /// Every view materialised, in datagram order, when `parse` was asked to; else empty (then
    /// `accept` materialises only the views it accepts). Not verified: trust only what `accept` returns.
    public var views: [SignedView] { storage.withUnsafeMutablePointerToHeader { $0.pointee.views } }

    /// The number of views in the datagram (the sender's first).
    public var viewCount: Int { storage.withUnsafeMutablePointerToHeader { $0.pointee.count } }
    // (The storage's fixed part is read through its pointer: `ManagedBuffer.header` is a class
    // property, and each access to it would be checked for exclusivity at run time, a runtime call
    // per access on every delivery. The storage is never written after `parse` returns.)
    /// The origin of each view, in datagram order.
    public var origins: [MemberIndex] { withHeaders { $0.map(\.origin) } }

    /// The fixed fields of each view, in datagram order (valid during `body` only).
    func withHeaders<R>(_ body: (UnsafeBufferPointer<DatagramDecoder.Header>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutablePointers { fixed, headers in
            try body(UnsafeBufferPointer(start: headers, count: fixed.pointee.count))
        }
    }

    /// The fixed fields of view `index` (datagram order).
    func header(_ index: Int) -> DatagramDecoder.Header {
        withHeaders { $0[index] }
    }
}

/// What a `ParsedDatagram` holds besides its views' fixed fields.
struct ParsedFixed {
    var bytes: ArraySlice<UInt8>
    var views: [SignedView]
    /// Headers initialised so far (all of them once the parse succeeded).
    var count: Int
}

/// One allocation per parse: `ParsedFixed`, then the headers. Written only while `parse` makes it,
/// immutable afterwards (so `ParsedDatagram` may be sent across threads). The headers are trivial
/// values: nothing to deinitialise.
final class ParsedStorage: ManagedBuffer<ParsedFixed, DatagramDecoder.Header> {
    /// Room for `capacity` headers of the datagram `bytes`, none written yet.
    static func make(bytes: ArraySlice<UInt8>, capacity: Int) -> ParsedStorage {
        let buffer = create(minimumCapacity: capacity) { _ in ParsedFixed(bytes: bytes, views: [], count: 0) }
        return unsafeDowncast(buffer, to: ParsedStorage.self)
    }
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
        let h = header(index)
        return (h.origin, h.version)
    }
}

extension DatagramDecoder {
    /// View `index` of `parsed` (datagram order) as a signed view, decoded from its bytes. Not
    /// verified: trust it only for indexes `acceptedViews` accepted.
    public func signedView(_ parsed: ParsedDatagram, at index: Int) -> SignedView {
        signedView(parsed.header(index), in: parsed.bytes)
    }
}
