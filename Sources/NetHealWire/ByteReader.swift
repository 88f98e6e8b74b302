/// A bounds-checked big-endian cursor over raw bytes. Every read returns nil instead of running past the
/// end, so the decoder can turn a short datagram into `.truncated` without ever trapping.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    /// Offset of the next unread byte.
    private(set) var offset: Int

    init(_ raw: UnsafeRawBufferPointer, offset: Int = 0) {
        self.raw = raw
        self.offset = offset
    }

    /// Bytes not read yet.
    var remaining: Int { raw.count - offset }

    @inline(__always)
    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return raw[offset]
    }

    @inline(__always)
    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(raw[offset]) << 8 | UInt16(raw[offset + 1])
    }

    /// Eight bytes, most significant first (one unaligned load).
    @inline(__always)
    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let value = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return value
    }

    /// Skips `count` bytes and returns the offset where they start, or nil when fewer remain.
    @inline(__always)
    mutating func skip(_ count: Int) -> Int? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return offset
    }

    /// True when the bytes starting at offset `start` equal `expected` (false when too few remain).
    func bytesEqual(_ expected: [UInt8], at start: Int) -> Bool {
        guard start >= 0, raw.count - start >= expected.count else { return false }
        for i in 0..<expected.count where raw[start + i] != expected[i] { return false }
        return true
    }
}
