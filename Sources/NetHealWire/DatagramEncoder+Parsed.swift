import NetHealCore

/// A datagram the encoder built together with its parse, made from what the encoder wrote instead of
/// by reading the bytes back (`DatagramEncoder.encodeParsed`).
///
/// `parsed` is what `DatagramDecoder.parse(bytes, materializeViews: true)` returns for a decoder of
/// the same roster: the same views in the same order, the same fixed fields of each. Like any parse it
/// is not trusted: freshness and signatures are still checked per receiver by `acceptedViews`/`accept`.
public struct ParsedEncodedDatagram: @unchecked Sendable {
    /// The datagram bytes (at most 1,400).
    public let bytes: [UInt8]
    /// The parse of `bytes`, its views materialised: the sender's signed view first, then the relayed ones.
    public let parsed: ParsedDatagram
    /// How many of the offered relayed views were left out (see `EncodedDatagram.droppedRelayed`).
    public let droppedRelayed: Int

    /// The sender's freshly signed view (the first view of the datagram).
    public var sender: SignedView { parsed.views[0] }
    /// How many relayed views the datagram carries.
    public var relayedCount: Int { parsed.viewCount - 1 }
    /// The same datagram as `encode` returns it.
    public var encoded: EncodedDatagram {
        EncodedDatagram(bytes: bytes, sender: sender, relayedCount: relayedCount, droppedRelayed: droppedRelayed)
    }
}

extension DatagramEncoder {
    /// `encode(_:signer:relaying:)` that also returns the datagram's parse, built from the views the
    /// encoder chose (no second pass over the bytes). Taking `relayed` (consumed) lets the parse keep
    /// its views without copying them when every one of them fits.
    public func encodeParsed(
        _ view: ReachabilityView, signer: some ViewSigner, relaying relayed: consuming [SignedView] = []
    ) throws(EncodeError) -> ParsedEncodedDatagram {
        encodeParsed(signed: try sign(view, with: signer), relaying: consume relayed)
    }

    /// `encode(signed:relaying:)` that also returns the datagram's parse: the same bytes, the same views
    /// chosen by the same rules.
    public func encodeParsed(signed own: SignedView, relaying relayed: consuming [SignedView] = []) -> ParsedEncodedDatagram {
        let offered = relayed.count
        var views: [SignedView]
        if offered <= 64 {
            let (chosen, count) = choose(own, from: relayed)
            if count == offered {
                // Every offered view fits: the parse keeps the caller's array, the sender's view put in front
                // (a move of the elements, no copies, when the caller reserved room for one more).
                views = consume relayed
                views.insert(own, at: 0)
            } else {
                views = []
                views.reserveCapacity(1 + count)
                views.append(own)
                var rest = chosen
                while rest != 0 {
                    let k = rest.trailingZeroBitCount
                    rest &= rest - 1
                    views.append(relayed[k])
                }
            }
        } else {
            // More than 64 offered (never in practice): the rules of `encode`'s list path.
            views = [own]
            views.reserveCapacity(offered + 1)
            var total = WireFormat.headerBytes + own.bytes.count
            for candidate in relayed where views.count < Int(UInt8.max) {
                let origin = candidate.origin
                guard origin.int < roster.count, !views.contains(where: { $0.origin == origin }),
                    total + candidate.bytes.count <= WireFormat.maxDatagramBytes, isEncodedForThisRoster(candidate.bytes)
                else { continue }
                total += candidate.bytes.count
                views.append(candidate)
            }
        }
        return Self.assemble(views, dropped: offered - (views.count - 1))
    }

    /// The relayed views `encode(signed:relaying:)` takes (at most 64 offered): a bit per chosen index.
    func choose(_ own: SignedView, from relayed: [SignedView]) -> (chosen: UInt64, count: Int) {
        var total = WireFormat.headerBytes + own.bytes.count
        var chosen: UInt64 = 0
        var chosenCount = 0
        for k in relayed.indices where chosenCount + 1 < Int(UInt8.max) {
            let candidate = relayed[k]
            let origin = candidate.origin
            guard origin.int < roster.count, origin != own.origin, !Self.contains(origin, in: relayed, chosen),
                total + candidate.bytes.count <= WireFormat.maxDatagramBytes, isEncodedForThisRoster(candidate.bytes)
            else { continue }
            total += candidate.bytes.count
            chosen |= 1 << UInt64(k)
            chosenCount += 1
        }
        return (chosen, chosenCount)
    }

    /// True when one of the views of `relayed` marked in `chosen` is of `origin`.
    static func contains(_ origin: MemberIndex, in relayed: [SignedView], _ chosen: UInt64) -> Bool {
        var rest = chosen
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            if relayed[k].origin == origin { return true }
        }
        return false
    }

    /// The datagram of `views` (chosen: distinct origins of this roster, 1,400 bytes at most) and its
    /// parse. Each view's fixed fields are its decoded `view`'s: a `SignedView` is only made by `sign` or
    /// by the decoder, so its `bytes` encode exactly its `view`.
    private static func assemble(_ views: [SignedView], dropped: Int) -> ParsedEncodedDatagram {
        // The views are read in place through the buffer (a `for v in views` or `let v = views[k].view`
        // copies each view and retains its arrays: atomic writes to memory another node's datagram owns).
        views.withUnsafeBufferPointer { vs in
            var total = WireFormat.headerBytes
            for k in vs.indices { total += vs[k].bytes.count }
            // `reserveCapacity` and appends: storage allocated by code specialised for UInt8 (see
            // `DatagramEncoder.sign`).
            var bytes: [UInt8] = []
            bytes.reserveCapacity(total)
            bytes.append(contentsOf: WireFormat.magic)
            bytes.append(WireFormat.version)
            bytes.append(UInt8(vs.count))
            for k in vs.indices { vs[k].bytes.withUnsafeBufferPointer { bytes.append(contentsOf: $0) } }
            let storage = ParsedStorage.make(bytes: bytes[...], capacity: vs.count)
            storage.withUnsafeMutablePointerToElements { headers in
                var start = WireFormat.headerBytes
                for k in vs.indices {
                    let length = vs[k].bytes.count
                    (headers + k).initialize(to: DatagramDecoder.Header(
                        start: start, origin: vs[k].view.origin, version: vs[k].view.version,
                        time: vs[k].view.originTimeMillis, digest: vs[k].view.configDigest, upstream: vs[k].view.upstream,
                        decision: vs[k].view.decision, length: length, listed: vs[k].view.reachSubjects?.count))
                    start += length
                }
            }
            return finish(storage, bytes, views, dropped)
        }
    }

    private static func finish(_ storage: ParsedStorage, _ bytes: [UInt8], _ views: [SignedView], _ dropped: Int) -> ParsedEncodedDatagram {
        storage.header.count = views.count
        storage.header.views = views
        return ParsedEncodedDatagram(bytes: bytes, parsed: ParsedDatagram(storage: storage), droppedRelayed: dropped)
    }
}
