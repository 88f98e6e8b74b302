import NetHealCore

/// The verified content of one accepted datagram.
public struct DecodedDatagram: Hashable, Sendable {
    /// The sender's own view (the first view): proof of direct contact with its origin.
    public var sender: SignedView
    /// Relayed views that were newer than their watermark and verified, in datagram order.
    public var relayed: [SignedView]
    /// Relayed views not newer than their origin's watermark, or (neighbourhood mode) of an origin that
    /// is not the receiver's neighbour: skipped without verifying, never trusted.
    public var skippedRelayed: Int
    /// Relayed views newer than their watermark that the receiver's `RelaySkipRule` judged redundant:
    /// skipped without verifying, never trusted, watermarks untouched. Included in `skippedRelayed`.
    public var skippedRedundant: Int = 0

    /// The sender's view followed by the accepted relayed views.
    public var views: [SignedView] { [sender] + relayed }
}

/// Decodes and verifies datagrams for one roster. Total and pure: any bytes give either verified views
/// or one `WireError`; nothing is partially accepted; watermarks change only on success.
public struct DatagramDecoder: Sendable {
    /// The roster views must belong to (cluster id, member count, public keys: a view verifies under
    /// its origin's `publicKey` or, during a key rotation, its `nextPublicKey`).
    public let roster: ClusterRoster
    let clusterID: [UInt8]
    private let verifier: any SignatureVerifier

    /// A decoder for `roster`, checking signatures with `verifier`.
    public init(roster: ClusterRoster, verifier: some SignatureVerifier) {
        self.roster = roster
        self.clusterID = Array(roster.clusterID.utf8)
        self.verifier = verifier
    }

    /// Decodes `bytes` (docs/protocol.md §5, validation order). On success the watermarks of every
    /// accepted view's origin are advanced to its version; on failure they are left unchanged.
    /// With a `skipRule`, relayed views that are newer but redundant for the receiver are skipped
    /// unverified too (docs/protocol.md §6).
    public func decode(
        _ bytes: some Collection<UInt8>, watermarks: inout ViewWatermarks, skipRule: RelaySkipRule? = nil
    ) -> Result<DecodedDatagram, WireError> {
        if let slice = bytes as? ArraySlice<UInt8> { return decode(slice: slice, watermarks: &watermarks, skipRule: skipRule) }
        if let array = bytes as? [UInt8] { return decode(slice: array[...], watermarks: &watermarks, skipRule: skipRule) }
        let count = bytes.count
        guard count <= WireFormat.maxDatagramBytes else { return .failure(.oversize(byteCount: count)) }
        return decode(slice: Array(bytes)[...], watermarks: &watermarks, skipRule: skipRule)
    }

    // MARK: Steps

    /// The fixed fields of one view, read during the structural pass (no allocation per view).
    struct Header: Sendable, Equatable {
        var start: Int
        var origin: MemberIndex
        var version: ViewVersion
        var time: UInt64
        var digest: UInt64
        var upstream: UpstreamHealth
        var decision: DecisionState
        /// The view's length in bytes, signature included.
        var length: Int
        /// Nil for a dense view; the number of entries of a listed one.
        var listed: Int?
    }

    private func decode(
        slice: ArraySlice<UInt8>, watermarks: inout ViewWatermarks, skipRule: RelaySkipRule?
    ) -> Result<DecodedDatagram, WireError> {
        switch parse(slice: slice, materializeViews: false) {
        case .success(let parsed): return accept(parsed, watermarks: &watermarks, skipRule: skipRule)
        case .failure(let error): return .failure(error)
        }
    }

    /// Phase 1: size, header and every view's structure; views materialised when asked.
    func parse(slice: ArraySlice<UInt8>, materializeViews: Bool) -> Result<ParsedDatagram, WireError> {
        guard slice.count <= WireFormat.maxDatagramBytes else { return .failure(.oversize(byteCount: slice.count)) }
        let storage: ParsedStorage
        switch slice.withUnsafeBytes({ parseStructure($0, slice: slice) }) {
        case .success(let parsed): storage = parsed
        case .failure(let error): return .failure(error)
        }
        let parsed = ParsedDatagram(storage: storage)
        if materializeViews {
            var views: [SignedView] = []
            views.reserveCapacity(parsed.viewCount)
            parsed.withHeaders { headers in
                for h in headers { views.append(signedView(h, in: slice)) }
            }
            storage.header.views = views
        }
        return .success(parsed)
    }

    /// The signed view of header `h` of the datagram `slice`.
    func signedView(_ h: Header, in slice: ArraySlice<UInt8>) -> SignedView {
        let base = slice.startIndex
        let bytes = Array(slice[(base + h.start)..<(base + h.start + h.length)])
        return SignedView(view: view(from: h, bytes: bytes), bytes: bytes)
    }

    /// Phase 2, for one receiver: freshness against `watermarks`, skipping, signatures, acceptance.
    func acceptParsed<Judge: RelayRedundancyJudge>(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, skipRule: Judge?
    ) -> Result<DecodedDatagram, WireError> {
        var knownValid: UInt64 = 0
        let accepted: AcceptedViews
        switch judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, judge: skipRule) {
        case .success(let a): accepted = a
        case .failure(let error): return .failure(error)
        }
        // Materialize the accepted views (or take the shared ones).
        return parsed.withHeaders { headers in
            let slice = parsed.bytes
            let sender = parsed.views.isEmpty ? signedView(headers[0], in: slice) : parsed.views[0]
            var relayed: [SignedView] = []
            relayed.reserveCapacity(headers.count - 1 - accepted.skippedRelayed)
            for i in headers.indices.dropFirst() where accepted.contains(i) {
                relayed.append(parsed.views.isEmpty ? signedView(headers[i], in: slice) : parsed.views[i])
            }
            return .success(DecodedDatagram(
                sender: sender, relayed: relayed, skippedRelayed: accepted.skippedRelayed,
                skippedRedundant: accepted.skippedRedundant))
        }
    }

    /// Phase 2 without materializing anything: freshness against `watermarks` (a stale sender's view
    /// rejects, stale or unwanted relayed views are skipped), the signatures of the views that would be
    /// accepted, then the watermarks advanced (only on success). Returns which views of `parsed` are
    /// accepted; `accept` returns exactly those views.
    ///
    /// `knownValid`: bit i set means view i of these exact bytes already verified for this roster (a
    /// caller sharing one parse among receivers may remember it); such views are not verified again,
    /// and views verified here get their bit set. Pass 0 to verify everything.
    public func acceptedViews(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, knownValid: inout UInt64
    ) -> Result<AcceptedViews, WireError> {
        judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, judge: RelaySkipRule?.none)
    }

    /// `acceptedViews` with a `RelayRedundancyJudge`: newer relayed views it judges redundant are
    /// skipped unverified too (docs/protocol.md §6.1).
    public func acceptedViews(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, knownValid: inout UInt64,
        judge: some RelayRedundancyJudge
    ) -> Result<AcceptedViews, WireError> {
        judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, judge: judge)
    }

    /// `acceptedViews` with the redundancy judgement as a non-escaping closure (no judge type, so no
    /// generic dispatch per call: the simulator calls this for every delivered datagram). Returns what
    /// `acceptedViews(_:watermarks:knownValid:judge:)` returns for a judge of `receiver` answering
    /// `isRedundant`.
    public func acceptedViews(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, knownValid: inout UInt64, receiver: MemberIndex,
        isRedundant: (RelayedViewSummary) -> Bool
    ) -> Result<AcceptedViews, WireError> {
        judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, receiver: receiver, isRedundant: isRedundant)
    }

    func judgedAcceptedViews<Judge: RelayRedundancyJudge>(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, knownValid: inout UInt64, judge: Judge?
    ) -> Result<AcceptedViews, WireError> {
        guard let judge else {
            return judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, receiver: nil) { _ in false }
        }
        return judgedAcceptedViews(parsed, watermarks: &watermarks, knownValid: &knownValid, receiver: judge.receiver) {
            judge.isRedundant($0)
        }
    }

    /// The one implementation: `isRedundant` is asked (for `receiver`) only when `receiver` is not nil.
    private func judgedAcceptedViews(
        _ parsed: ParsedDatagram, watermarks: inout ViewWatermarks, knownValid: inout UInt64, receiver: MemberIndex?,
        isRedundant: (RelayedViewSummary) -> Bool
    ) -> Result<AcceptedViews, WireError> {
        parsed.withHeaders { headers in
            let slice = parsed.bytes
            // A datagram holds at most 13 views (1,400 bytes, ≥ 105 per view), so one word of bits suffices.
            precondition(headers.count <= 64, "more than 64 views in one datagram")
            // Freshness: the sender's view must be news; stale relayed copies are skipped unverified.
            let first = headers[0]
            if !watermarks.isNewer(first.version, than: first.origin) {
                return .failure(.replayed(
                    origin: first.origin, version: first.version, watermark: watermarks[first.origin] ?? first.version))
            }
            var accepted = AcceptedViews(bits: 1, skippedRelayed: 0)
            for i in headers.indices.dropFirst() {
                let h = headers[i]
                if watermarks.wantsNewRelayed(h.version, from: h.origin) {
                    accepted.bits |= 1 << UInt64(i)
                } else {
                    accepted.skippedRelayed += 1
                }
            }
            // Newer relayed views that would tell this receiver nothing new: skipped unverified as well.
            if let receiver {
                var candidates = accepted.bits & ~1
                while candidates != 0 {
                    let i = candidates.trailingZeroBitCount
                    candidates &= candidates - 1
                    if isRedundant(relayedSummary(headers[i], in: slice, receiver: receiver)) {
                        accepted.bits &= ~(1 << UInt64(i))
                        accepted.skippedRelayed += 1
                        accepted.skippedRedundant += 1
                    }
                }
            }
            // Signatures of every view that would be accepted, in datagram order; one failure rejects the datagram.
            let base = slice.startIndex
            var pending = accepted.bits & ~knownValid
            while pending != 0 {
                let i = pending.trailingZeroBitCount
                pending &= pending - 1
                let h = headers[i]
                let signed = (base + h.start)..<(base + h.start + h.length - WireFormat.signatureBytes)
                let signature = signed.upperBound..<(base + h.start + h.length)
                // The current key first; a member in key rotation also has a next key, tried only when
                // the current one fails (at most one extra verification, docs/key-rotation.md).
                let member = roster.members[h.origin.int]
                let verified =
                    verifier.verify(signature: slice[signature], message: slice[signed], publicKey: member.publicKey)
                    || (member.nextPublicKey.map { verifier.verify(signature: slice[signature], message: slice[signed], publicKey: $0) }
                        ?? false)
                guard verified else { return .failure(.badSignature(origin: h.origin)) }
                knownValid |= 1 << UInt64(i)
            }
            // Accept: advance the watermarks, the sender's first, then the relayed views in datagram order.
            var rest = accepted.bits
            while rest != 0 {
                let i = rest.trailingZeroBitCount
                rest &= rest - 1
                watermarks.advance(headers[i].origin, to: headers[i].version)
            }
            return .success(accepted)
        }
    }

    /// Checks everything but freshness and signatures: header, then each view field by field, then the end.
    private func parseStructure(_ raw: UnsafeRawBufferPointer, slice: ArraySlice<UInt8>) -> Result<ParsedStorage, WireError> {
        var reader = ByteReader(raw)
        guard reader.remaining >= WireFormat.headerBytes else { return .failure(.truncated) }
        guard reader.bytesEqual(WireFormat.magic, at: 0) else { return .failure(.badMagic) }
        _ = reader.skip(WireFormat.magic.count)
        guard let version = reader.u8(), let count = reader.u8() else { return .failure(.truncated) }
        guard version == WireFormat.version else { return .failure(.badVersion(version)) }
        guard count > 0 else { return .failure(.noViews) }
        // The headers go straight into the parse's own storage (one allocation for the whole parse).
        let storage = ParsedStorage.make(bytes: slice, capacity: Int(count))
        let failure: WireError? = storage.withUnsafeMutablePointerToElements { headers in
            for k in 0..<Int(count) {
                switch parseView(&reader, after: UnsafeBufferPointer(start: headers, count: k)) {
                case .success(let header):
                    (headers + k).initialize(to: header)
                    storage.header.count = k + 1
                case .failure(let error): return error
                }
            }
            return nil
        }
        if let failure { return .failure(failure) }
        guard reader.remaining == 0 else { return .failure(.trailingBytes(count: reader.remaining)) }
        return .success(storage)
    }

    private func parseView(_ reader: inout ByteReader, after earlier: UnsafeBufferPointer<Header>) -> Result<Header, WireError> {
        let start = reader.offset
        guard let layout = reader.u8() else { return .failure(.truncated) }
        guard layout == WireFormat.denseLayout || layout == WireFormat.listedLayout else {
            return .failure(.badVersion(layout))
        }
        guard let idLength = reader.u8() else { return .failure(.truncated) }
        guard WireFormat.clusterIDBytes.contains(Int(idLength)), Int(idLength) == clusterID.count else {
            return .failure(.unknownCluster)
        }
        guard let idStart = reader.skip(Int(idLength)) else { return .failure(.truncated) }
        guard reader.bytesEqual(clusterID, at: idStart) else { return .failure(.unknownCluster) }
        guard let originRaw = reader.u16() else { return .failure(.truncated) }
        guard Int(originRaw) < roster.count else { return .failure(.unknownOrigin(originRaw)) }
        let origin = MemberIndex(rawValue: originRaw)
        if earlier.contains(where: { $0.origin == origin }) { return .failure(.duplicateOrigin(origin)) }
        guard let incarnation = reader.u64(), let sequence = reader.u64(), let time = reader.u64(),
            let digest = reader.u64(), let upstreamRaw = reader.u8()
        else { return .failure(.truncated) }
        guard let upstream = UpstreamHealth(rawValue: upstreamRaw) else { return .failure(.badUpstreamHealth(upstreamRaw)) }
        guard let decisionRaw = reader.u8() else { return .failure(.truncated) }
        guard let decision = DecisionState(rawValue: decisionRaw) else { return .failure(.badDecisionState(decisionRaw)) }
        guard let memberCount = reader.u16() else { return .failure(.truncated) }
        guard Int(memberCount) == roster.count else {
            return .failure(.memberCountMismatch(got: Int(memberCount), expected: roster.count))
        }
        var listed: Int?
        if layout == WireFormat.denseLayout {
            guard let bitmap = reader.skip(WireFormat.bitmapBytes(memberCount: roster.count)) else {
                return .failure(.truncated)
            }
            if let error = checkBitmap(reader.raw, at: bitmap, origin: origin) { return .failure(error) }
        } else {
            guard let entries = reader.u16() else { return .failure(.truncated) }
            guard Int(entries) < roster.count else { return .failure(.badReachList(origin: origin)) }
            guard let first = reader.skip(Int(entries) * WireFormat.listedEntryBytes) else { return .failure(.truncated) }
            if !listIsValid(reader.raw, at: first, entries: Int(entries), origin: origin) {
                return .failure(.badReachList(origin: origin))
            }
            listed = Int(entries)
        }
        guard reader.skip(WireFormat.signatureBytes) != nil else { return .failure(.truncated) }
        return .success(Header(
            start: start, origin: origin, version: ViewVersion(incarnation: incarnation, sequence: sequence),
            time: time, digest: digest, upstream: upstream, decision: decision, length: reader.offset - start,
            listed: listed))
    }

    /// Entries strictly ascending, each a member of the roster other than the origin, reach 0…2.
    private func listIsValid(_ raw: UnsafeRawBufferPointer, at start: Int, entries: Int, origin: MemberIndex) -> Bool {
        var previous = -1
        for k in 0..<entries {
            let at = start + k * WireFormat.listedEntryBytes
            let member = Int(raw[at]) << 8 | Int(raw[at + 1])
            guard member > previous, member < roster.count, member != origin.int, raw[at + 2] <= 2 else { return false }
            previous = member
        }
        return true
    }

    /// Padding bits zero, `self` (binary 11) in the origin's slot and in no other.
    private func checkBitmap(_ raw: UnsafeRawBufferPointer, at start: Int, origin: MemberIndex) -> WireError? {
        let n = roster.count
        let byteCount = WireFormat.bitmapBytes(memberCount: n)
        let usedInLast = n & 3
        if usedInLast != 0, raw[start + byteCount - 1] & (0xFF << UInt8(usedInLast * 2)) != 0 {
            return .nonZeroPadding
        }
        let originByte = origin.int >> 2
        let originBit = UInt8(1) << UInt8((origin.int & 3) * 2)
        for k in 0..<byteCount {
            let b = raw[start + k]
            var selfSlots = b & (b >> 1) & 0x55  // bit 2j set when slot j of this byte is 11
            if k == originByte {
                guard selfSlots & originBit != 0 else { return .badSelfSlot(origin: origin) }
                selfSlots &= ~originBit
            }
            if selfSlots != 0 { return .badSelfSlot(origin: origin) }
        }
        return nil
    }

    private static let reachTable: [Reach] = [.unknown, .reachable, .unreachable, .isSelf]

    /// The view of an accepted header; `bytes` is its complete signed encoding.
    private func view(from h: Header, bytes: [UInt8]) -> ReachabilityView {
        let bitmapStart = 2 + clusterID.count + WireFormat.bitmapDelta
        var reach: [Reach]
        var subjects: [MemberIndex]?
        if let entries = h.listed {
            let first = 2 + clusterID.count + WireFormat.entriesDelta
            var members: [MemberIndex] = []
            members.reserveCapacity(entries)
            reach = []
            reach.reserveCapacity(entries)
            for k in 0..<entries {
                let at = first + k * WireFormat.listedEntryBytes
                members.append(MemberIndex(rawValue: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])))
                reach.append(Self.reachTable[Int(bytes[at + 2]) & 3])
            }
            subjects = members
        } else {
            let n = roster.count
            reach = [Reach](unsafeUninitializedCapacity: n) { buffer, initialized in
                bytes.withUnsafeBufferPointer { raw in
                    Self.reachTable.withUnsafeBufferPointer { table in
                        for slot in 0..<n {
                            let byte = raw[bitmapStart + (slot >> 2)]
                            buffer.initializeElement(at: slot, to: table[Int(byte >> UInt8((slot & 3) * 2)) & 3])
                        }
                    }
                }
                initialized = n
            }
        }
        return ReachabilityView(
            origin: h.origin, incarnation: h.version.incarnation, sequence: h.version.sequence,
            originTimeMillis: h.time, configDigest: h.digest, upstream: h.upstream, decision: h.decision,
            reach: reach, reachSubjects: subjects)
    }
}
