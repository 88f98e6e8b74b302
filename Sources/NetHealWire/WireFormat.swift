/// The constants and size arithmetic of the wire format, version 1 (docs/protocol.md).
///
/// A datagram is a 6-byte header followed by one or more signed views. Every integer is big-endian.
/// A signed view is self-delimiting: its length follows from its cluster id length and its member count,
/// both of which must equal the receiver's roster, so every view in a datagram has the same length.
public enum WireFormat {
    /// The protocol version this implementation reads and writes (header byte 4): 1. It is also the
    /// layout byte (view byte 0) of a dense view.
    public static let version: UInt8 = 1
    /// View byte 0 of a dense view: a 2-bit reach per member in member order (full-mesh clusters).
    public static let denseLayout: UInt8 = 1
    /// View byte 0 of a listed view: an entry count and (member, reach) entries, for neighbourhood-mode
    /// clusters whose views speak only of the origin's neighbours (docs/protocol.md §3.5).
    public static let listedLayout: UInt8 = 2
    /// One entry of a listed view: member index (u16) and reach (u8).
    public static let listedEntryBytes = 3
    /// The four magic bytes that open every datagram: ASCII "NHCL".
    public static let magic: [UInt8] = [0x4E, 0x48, 0x43, 0x4C]
    /// The largest datagram that is sent or accepted, in bytes: 1,400 (fits a 1,500-byte MTU with IPv6/UDP headers).
    public static let maxDatagramBytes = 1400
    /// Header: magic (4), version (1), view count (1).
    public static let headerBytes = 6
    /// Length of the detached Ed25519 signature that ends every view: 64.
    public static let signatureBytes = 64
    /// Length of an Ed25519 public key: 32.
    public static let publicKeyBytes = 32
    /// The allowed cluster id length in bytes of UTF-8: 1 to 64.
    public static let clusterIDBytes: ClosedRange<Int> = 1...64

    /// The fixed part of a view besides the cluster id and the bitmap: version (1), cluster id length (1),
    /// origin (2), incarnation (8), sequence (8), origin time (8), config digest (8), upstream (1),
    /// decision (1), member count (2) = 40 bytes, plus the 64-byte signature = 104.
    public static let viewFixedBytes = 40 + signatureBytes

    // MARK: Offsets inside a view, counted from the origin field (which is at 2 + cluster id length)

    /// The member count (u16) is 36 bytes after the origin field.
    static let memberCountDelta = 36
    /// The bitmap (dense) or the entry count (listed) starts 38 bytes after the origin field.
    static let bitmapDelta = 38
    /// A listed view's entries start 40 bytes after the origin field.
    static let entriesDelta = 40

    // MARK: Sizes

    /// Bytes of the reachability bitmap for `memberCount` members: 2 bits each, rounded up to a byte.
    public static func bitmapBytes(memberCount: Int) -> Int { (memberCount + 3) / 4 }

    /// Bytes of one signed view: 104 + cluster id length + ⌈members / 4⌉.
    /// For 1,000 members and a 10-byte cluster id: 104 + 10 + 250 = 364.
    public static func viewBytes(clusterIDBytes: Int, memberCount: Int) -> Int {
        viewFixedBytes + clusterIDBytes + bitmapBytes(memberCount: memberCount)
    }

    /// Bytes of one listed view with `entries` members listed: 106 + cluster id length + 3 × entries.
    /// For 32 neighbours and a 10-byte cluster id: 106 + 10 + 96 = 212.
    public static func listedViewBytes(clusterIDBytes: Int, entries: Int) -> Int {
        viewFixedBytes + 2 + clusterIDBytes + listedEntryBytes * entries
    }

    /// The most entries a listed view may carry and still fit one datagram on its own.
    public static func maxListedEntries(clusterIDBytes: Int) -> Int {
        (maxDatagramBytes - headerBytes - viewFixedBytes - 2 - clusterIDBytes) / listedEntryBytes
    }

    /// The length of the complete view that `bytes` starts with, from its layout byte, cluster id length
    /// and (listed) entry count; nil when the bytes are too short to tell or the layout is unknown. Does
    /// not validate anything else.
    public static func viewLength(startingWith bytes: ArraySlice<UInt8>) -> Int? {
        let base = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let idLength = Int(bytes[base + 1])
        let countAt = base + 2 + idLength + memberCountDelta
        switch bytes[base] {
        case denseLayout:
            guard bytes.endIndex >= countAt + 2 else { return nil }
            let members = Int(bytes[countAt]) << 8 | Int(bytes[countAt + 1])
            return viewBytes(clusterIDBytes: idLength, memberCount: members)
        case listedLayout:
            let entriesAt = base + 2 + idLength + bitmapDelta
            guard bytes.endIndex >= entriesAt + 2 else { return nil }
            let entries = Int(bytes[entriesAt]) << 8 | Int(bytes[entriesAt + 1])
            return listedViewBytes(clusterIDBytes: idLength, entries: entries)
        default:
            return nil
        }
    }

    /// How many dense views (the sender's plus relayed ones) fit in one datagram; 0 when not even one fits.
    public static func viewsPerDatagram(clusterIDBytes: Int, memberCount: Int) -> Int {
        let one = viewBytes(clusterIDBytes: clusterIDBytes, memberCount: memberCount)
        return min(Int(UInt8.max), (maxDatagramBytes - headerBytes) / one)
    }

    /// The largest roster whose view still fits in one datagram: 4 × (1,290 − cluster id length),
    /// i.e. 4,904 members with a 64-byte cluster id, 5,120 with a 10-byte one.
    public static func maxMembers(clusterIDBytes: Int) -> Int {
        4 * (maxDatagramBytes - headerBytes - viewFixedBytes - clusterIDBytes)
    }
}
