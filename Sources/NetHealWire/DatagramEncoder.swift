import NetHealCore

/// Why a view could not be signed or a datagram not built. These are bugs or configuration errors on
/// the sending node (the decoder on every peer would reject such a view), never caused by peers.
public enum EncodeError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The roster's cluster id is not 1 to 64 bytes of UTF-8.
    case badClusterID(byteCount: Int)
    /// The view's origin is not a member of the roster.
    case unknownOrigin(MemberIndex)
    /// The view's `reach` has a different length than the roster.
    case memberCountMismatch(got: Int, expected: Int)
    /// `reach[origin]` is not `.isSelf`, or another slot is.
    case badSelfSlot(origin: MemberIndex)
    /// A listed view's `reachSubjects` are not strictly ascending members other than the origin, do not
    /// match `reach` in number, or a listed reach is `.isSelf`.
    case badReachList(origin: MemberIndex)
    /// The signer's public key is neither the roster's `publicKey` nor `nextPublicKey` of the view's
    /// origin (wrong secret key file?).
    case signerKeyMismatch(origin: MemberIndex)
    /// The signer returned a signature that is not 64 bytes.
    case badSignatureLength(Int)
    /// Even the sender's view alone exceeds 1,400 bytes: the roster is too large for the wire format.
    case tooLarge(byteCount: Int)

    public var description: String {
        switch self {
        case .badClusterID(let n): "cluster id is \(n) bytes of UTF-8; it must be 1 to 64"
        case .unknownOrigin(let o): "view origin \(o) is not in the roster"
        case .memberCountMismatch(let got, let expected): "view has \(got) reach slots, roster has \(expected) members"
        case .badSelfSlot(let o): "view of \(o): reach[origin] must be self and no other slot may be"
        case .badReachList(let o): "listed view of \(o): subjects must ascend, exclude the origin and match reach, no self"
        case .signerKeyMismatch(let o): "the signer's public key is not the roster's key of \(o) (wrong secret key file?)"
        case .badSignatureLength(let n): "signer returned \(n) signature bytes, expected 64"
        case .tooLarge(let n): "one view is \(n) bytes with its header; the limit is \(WireFormat.maxDatagramBytes)"
        }
    }
}

/// A datagram ready to send, and what went into it.
public struct EncodedDatagram: Hashable, Sendable {
    /// The datagram bytes (at most 1,400).
    public var bytes: [UInt8]
    /// The sender's freshly signed view (the first view of the datagram).
    public var sender: SignedView
    /// How many relayed views the datagram carries.
    public var relayedCount: Int
    /// How many of the offered relayed views were left out: they did not fit in 1,400 bytes, were of the
    /// sender itself, repeated an earlier origin, or were not encoded for this roster (cluster id, size).
    public var droppedRelayed: Int
}

/// Signs views and builds datagrams for one roster. Pure: signing is done by the injected `ViewSigner`.
public struct DatagramEncoder: Sendable {
    /// The roster every view is encoded for (cluster id, member count, public keys).
    public let roster: ClusterRoster
    private let clusterID: [UInt8]

    /// An encoder for `roster`. Problems with the roster are reported by `sign`/`encode`.
    public init(roster: ClusterRoster) {
        self.roster = roster
        self.clusterID = Array(roster.clusterID.utf8)
    }

    /// The byte length of a dense view of this roster (a listed view's length depends on its entries).
    public var viewBytes: Int { WireFormat.viewBytes(clusterIDBytes: clusterID.count, memberCount: roster.count) }

    /// The byte length `view` will have once signed.
    public func length(of view: ReachabilityView) -> Int {
        guard view.reachSubjects != nil else { return viewBytes }
        return WireFormat.listedViewBytes(clusterIDBytes: clusterID.count, entries: view.reach.count)
    }

    /// Encodes and signs `view` (docs/protocol.md, "Signed view"): its fields, then `signer`'s signature.
    /// Zero bytes to start a view's fields from (a view fits in a datagram).
    static let zeros = [UInt8](repeating: 0, count: WireFormat.maxDatagramBytes)

    public func sign(_ view: ReachabilityView, with signer: some ViewSigner) throws(EncodeError) -> SignedView {
        try checkShape(view)
        let size = length(of: view)
        let fieldCount = size - WireFormat.signatureBytes
        // Room for the whole view, the fields copied from zeros and then written in place; the signer
        // appends the signature into the room left. (Not `init(unsafeUninitializedCapacity:)`: it allocates
        // through an unspecialised stdlib entry point that looks the storage class up in the runtime's
        // metadata cache on every call, which cost more than the copy.)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        if fieldCount <= Self.zeros.count {
            bytes.append(contentsOf: Self.zeros[..<fieldCount])
        } else {
            bytes.append(contentsOf: repeatElement(0, count: fieldCount))
        }
        bytes.withUnsafeMutableBytes { writeFields(of: view, into: $0) }
        // reach[origin] is self and no other slot is: checked on the packed bitmap (a quarter of the slots).
        if view.reachSubjects == nil, !Self.selfSlotOnlyAtOrigin(bytes, bitmapAt: fieldCount - WireFormat.bitmapBytes(memberCount: roster.count), origin: view.origin) {
            throw .badSelfSlot(origin: view.origin)
        }
        try checkSigner(view, signer: signer, size: size)
        let signatureCount = signer.appendSignature(to: &bytes)
        guard signatureCount == WireFormat.signatureBytes else { throw .badSignatureLength(signatureCount) }
        return SignedView(view: view, bytes: bytes)
    }

    /// A datagram with `view` (signed now by `signer`) first, then as many of `relayed` as fit, in the
    /// given order (put the most useful first). Relayed views are copied byte for byte.
    public func encode(
        _ view: ReachabilityView, signer: some ViewSigner, relaying relayed: [SignedView] = []
    ) throws(EncodeError) -> EncodedDatagram {
        encode(signed: try sign(view, with: signer), relaying: relayed)
    }

    /// A datagram with `own` (a view of this roster signed earlier by `sign(_:with:)`) first, then as
    /// many of `relayed` as fit. The agent signs its view once per gossip round and sends it to every
    /// target of the round in datagrams whose relays differ (docs/protocol.md §6.2).
    public func encode(signed own: SignedView, relaying relayed: [SignedView] = []) -> EncodedDatagram {
        // Up to 64 offered views: the chosen ones are a bit mask (no list allocated per datagram).
        guard relayed.count <= 64 else { return encodeListed(signed: own, relaying: relayed) }
        let (chosen, chosenCount) = choose(own, from: relayed)
        var total = WireFormat.headerBytes + own.bytes.count
        var rest = chosen
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            total += relayed[k].bytes.count
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(total)
        bytes.append(contentsOf: WireFormat.magic)
        bytes.append(WireFormat.version)
        bytes.append(UInt8(1 + chosenCount))
        bytes.append(contentsOf: own.bytes)
        rest = chosen
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            bytes.append(contentsOf: relayed[k].bytes)
        }
        return EncodedDatagram(
            bytes: bytes, sender: own, relayedCount: chosenCount, droppedRelayed: relayed.count - chosenCount)
    }

    /// `encode(signed:relaying:)` for more than 64 offered views: the chosen ones in a list.
    private func encodeListed(signed own: SignedView, relaying relayed: [SignedView]) -> EncodedDatagram {
        let view = own.view
        var total = WireFormat.headerBytes + own.bytes.count
        var chosen: [SignedView] = []
        chosen.reserveCapacity(relayed.count)
        for candidate in relayed where chosen.count + 1 < Int(UInt8.max) {
            let origin = candidate.origin
            guard origin.int < roster.count, origin != view.origin, !chosen.contains(where: { $0.origin == origin }),
                total + candidate.bytes.count <= WireFormat.maxDatagramBytes, isEncodedForThisRoster(candidate.bytes)
            else { continue }
            total += candidate.bytes.count
            chosen.append(candidate)
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(total)
        bytes.append(contentsOf: WireFormat.magic)
        bytes.append(WireFormat.version)
        bytes.append(UInt8(1 + chosen.count))
        bytes.append(contentsOf: own.bytes)
        for v in chosen { bytes.append(contentsOf: v.bytes) }
        return EncodedDatagram(
            bytes: bytes, sender: own, relayedCount: chosen.count, droppedRelayed: relayed.count - chosen.count)
    }

    // MARK: Fields

    /// True when `bytes` is one complete view of this roster's cluster id and member count (a view
    /// kept from before a cluster file change would make every receiver reject the whole datagram).
    func isEncodedForThisRoster(_ bytes: [UInt8]) -> Bool {
        let idCount = clusterID.count
        let countAt = 2 + idCount + WireFormat.memberCountDelta
        let entriesAt = 2 + idCount + WireFormat.bitmapDelta
        // One pass over raw memory (every relayed view offered to every datagram goes through here).
        return bytes.withUnsafeBufferPointer { b in
            guard b.count > entriesAt, b[1] == UInt8(truncatingIfNeeded: idCount),
                Int(b[countAt]) << 8 | Int(b[countAt + 1]) == roster.count
            else { return false }
            // The length `WireFormat.viewLength` gives, for this roster's id length and member count.
            let length: Int
            switch b[0] {
            case WireFormat.denseLayout:
                length = WireFormat.viewBytes(clusterIDBytes: idCount, memberCount: roster.count)
            case WireFormat.listedLayout:
                guard b.count >= entriesAt + 2 else { return false }
                length = WireFormat.listedViewBytes(clusterIDBytes: idCount, entries: Int(b[entriesAt]) << 8 | Int(b[entriesAt + 1]))
            default:
                return false
            }
            guard length == b.count else { return false }
            return clusterID.withUnsafeBufferPointer { id in
                for k in 0..<idCount where b[2 + k] != id[k] { return false }
                return true
            }
        }
    }

    /// The checks `sign` makes before writing anything: cluster id, origin, and the reach list or
    /// member count (the self slot of a dense view is checked on the written bitmap, then `checkSigner`).
    private func checkShape(_ view: ReachabilityView) throws(EncodeError) {
        guard WireFormat.clusterIDBytes.contains(clusterID.count) else { throw .badClusterID(byteCount: clusterID.count) }
        guard view.origin.int < roster.count else { throw .unknownOrigin(view.origin) }
        if let subjects = view.reachSubjects {
            guard subjects.count == view.reach.count, subjects.count < roster.count,
                Self.isPeerList(subjects, view.reach, origin: view.origin, memberCount: roster.count)
            else { throw .badReachList(origin: view.origin) }
        } else {
            guard view.reach.count == roster.count else {
                throw .memberCountMismatch(got: view.reach.count, expected: roster.count)
            }
        }
    }

    /// The checks after the self slot: the signer's key, then the size (`size`: the view's length).
    private func checkSigner(_ view: ReachabilityView, signer: some ViewSigner, size: Int) throws(EncodeError) {
        guard roster.members[view.origin.int].accepts(signer.publicKey) else {
            throw .signerKeyMismatch(origin: view.origin)
        }
        guard WireFormat.headerBytes + size <= WireFormat.maxDatagramBytes else {
            throw .tooLarge(byteCount: WireFormat.headerBytes + size)
        }
    }

    /// True when the packed bitmap at `start` of `bytes` has `self` (binary 11) in the origin's slot and in
    /// no other (its padding bits are zero: `writeFields` wrote them).
    private static func selfSlotOnlyAtOrigin(_ bytes: [UInt8], bitmapAt start: Int, origin: MemberIndex) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            var selfSlots = 0
            for k in start..<b.count {
                let v = b[k]
                selfSlots += (v & (v >> 1) & 0x55).nonzeroBitCount
            }
            let o = origin.int
            let atOrigin = start + (o >> 2)
            return selfSlots == 1 && atOrigin < b.count && (b[atOrigin] >> UInt8((o & 3) * 2)) & 3 == 3
        }
    }

    /// Subjects strictly ascending members other than the origin, none reached as `.isSelf` (one pass
    /// over raw memory; `reach` has as many values as `subjects`).
    private static func isPeerList(_ subjects: [MemberIndex], _ reach: [Reach], origin: MemberIndex, memberCount: Int) -> Bool {
        subjects.withUnsafeBufferPointer { s in
            reach.withUnsafeBufferPointer { r in
                var previous = -1
                for k in 0..<s.count {
                    let member = s[k].int
                    guard member > previous, member < memberCount, member != origin.int, r[k] != .isSelf else { return false }
                    previous = member
                }
                return true
            }
        }
    }

    /// Writes every field of the view (everything the signature covers), big-endian, into `out`, which
    /// has room for at least them (`length(of:)` minus the signature). `checkShape` has passed: a listed
    /// view has as many subjects as reach values, a dense one a reach per member.
    private func writeFields(of view: ReachabilityView, into out: UnsafeMutableRawBufferPointer) {
        let idCount = clusterID.count
        let subjects = view.reachSubjects
        out[0] = subjects == nil ? WireFormat.denseLayout : WireFormat.listedLayout
        out[1] = UInt8(idCount)
        clusterID.withUnsafeBytes { id in out.baseAddress!.advanced(by: 2).copyMemory(from: id.baseAddress!, byteCount: idCount) }
        var at = 2 + idCount
        out.storeBytes(of: view.origin.rawValue.bigEndian, toByteOffset: at, as: UInt16.self)
        at += 2
        out.storeBytes(of: view.incarnation.bigEndian, toByteOffset: at, as: UInt64.self)
        out.storeBytes(of: view.sequence.bigEndian, toByteOffset: at + 8, as: UInt64.self)
        out.storeBytes(of: view.originTimeMillis.bigEndian, toByteOffset: at + 16, as: UInt64.self)
        out.storeBytes(of: view.configDigest.bigEndian, toByteOffset: at + 24, as: UInt64.self)
        at += 32
        out[at] = view.upstream.rawValue
        out[at + 1] = view.decision.rawValue
        out.storeBytes(of: UInt16(truncatingIfNeeded: roster.count).bigEndian, toByteOffset: at + 2, as: UInt16.self)
        at += 4
        guard let subjects else {
            Self.writeBitmap(view.reach, into: UnsafeMutableRawBufferPointer(rebasing: out[at...]))
            return
        }
        out.storeBytes(of: UInt16(subjects.count).bigEndian, toByteOffset: at, as: UInt16.self)
        at += 2
        view.reach.withUnsafeBufferPointer { reach in
            subjects.withUnsafeBufferPointer { members in
                for k in 0..<members.count {
                    out.storeBytes(of: members[k].rawValue.bigEndian, toByteOffset: at, as: UInt16.self)
                    out[at + 2] = reach[k].rawValue
                    at += WireFormat.listedEntryBytes
                }
            }
        }
    }

    /// Packs `reach` four slots per byte, slot j of a byte in bits 2j…2j+1, the last byte zero-padded,
    /// into the first ⌈n / 4⌉ bytes of `out`. For 1,000 members this is 250 bytes per view signed.
    private static func writeBitmap(_ reach: [Reach], into out: UnsafeMutableRawBufferPointer) {
        let n = reach.count
        reach.withUnsafeBufferPointer { r in
            var slot = 0
            var k = 0
            while slot + 4 <= n {
                out[k] = r[slot].rawValue | r[slot + 1].rawValue << 2 | r[slot + 2].rawValue << 4 | r[slot + 3].rawValue << 6
                slot += 4
                k += 1
            }
            var last: UInt8 = 0
            var shift: UInt8 = 0
            while slot < n {
                last |= r[slot].rawValue << shift
                shift += 2
                slot += 1
            }
            if n & 3 != 0 { out[k] = last }
        }
    }
}
