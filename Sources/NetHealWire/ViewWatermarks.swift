import NetHealCore

/// The highest `ViewVersion` accepted so far from each member: the decoder's replay protection.
///
/// The shell keeps one value per process and passes it `inout` to `DatagramDecoder.decode`, which
/// advances it only when a datagram is accepted. A view is accepted only when it is strictly newer
/// than its origin's watermark. Watermarks live in memory: after a restart every member's next view is
/// accepted once, which is safe because views carry no time-sensitive commands and the origin's
/// incarnation has moved on (docs/protocol.md, "Replay rules").
public struct ViewWatermarks: Hashable, Sendable {
    /// `nil`: nothing accepted from that member yet (any version is newer). Used in a full mesh.
    @usableFromInline var versions: [ViewVersion?]
    /// Neighbourhood mode: the neighbours given at init, ascending, and their watermarks slot by slot
    /// (found by binary search: no hashing on the hot path).
    @usableFromInline var slotMembers: [MemberIndex] = []
    /// Slot k's watermark; `ViewVersion(0, 0)` stands for "nothing accepted yet" unless k is in
    /// `zeroMarks` (16 bytes a slot instead of an optional's 24: more neighbours per cache line).
    @usableFromInline var slotMarks: [ViewVersion] = []
    /// The slots whose watermark really is (0, 0) (a view of that version was accepted), ascending.
    /// Almost always empty: real versions start at incarnation 1.
    @usableFromInline var zeroMarks: [Int] = []
    /// Neighbourhood mode: the watermarks of other members heard from (the node itself, pinned; rare
    /// senders outside the neighbourhood). Lookups only, never iterated.
    @usableFromInline var sparse: [MemberIndex: ViewVersion] = [:]
    /// True when the watermarks live in `slotMarks` and `sparse` (neighbourhood mode in the simulator).
    @usableFromInline var isSparse = false
    /// True while `interest` is `slotMembers` (neighbourhood mode, never narrowed): one search answers both.
    @usableFromInline var interestIsSlots = false
    /// The members whose relayed views this node wants, ascending; nil = all.
    @usableFromInline var interest: [MemberIndex]?
    /// Neighbourhood mode with caller-owned slots (`init(neighbors:slots:)`): slot k's watermark lives
    /// there instead of in `slotMarks`.
    @usableFromInline var external: ExternalSlotMarks?

    /// Empty watermarks for a roster of `memberCount` members (more are added on demand); relayed views
    /// of every member are wanted.
    public init(memberCount: Int = 0) {
        versions = Array(repeating: nil, count: max(0, memberCount))
    }

    /// Empty watermarks for a node in neighbourhood mode (docs/scaling.md): memory grows with the members
    /// actually heard from, not with the roster, and relayed views are wanted only from `neighbors`
    /// (any order; the others are skipped unverified, like stale ones).
    public init(neighbors: [MemberIndex]) {
        versions = []
        isSparse = true
        // Already ascending (a `NeighborGraph` row): share its storage rather than copy it.
        interest = zip(neighbors, neighbors.dropFirst()).allSatisfy { $0 < $1 } ? neighbors : neighbors.sorted()
        slotMembers = interest ?? []
        interestIsSlots = true
        slotMarks = Array(repeating: Self.zeroVersion, count: slotMembers.count)
    }

    /// Empty watermarks for a node in neighbourhood mode whose slot watermarks live in caller-owned
    /// memory (`slots`; they are set to "nothing accepted" here), so that a caller may keep its own
    /// per-neighbour state beside each one (the simulator: one cache line per neighbour). Copies of the
    /// value share those slots. Otherwise exactly `init(neighbors:)`.
    public init(neighbors: [MemberIndex], slots: ExternalSlotMarks) {
        self.init(neighbors: neighbors)
        slotMarks = []
        external = slots
        for k in slotMembers.indices { slots.store(Self.zeroVersion, at: k) }
    }

    /// From now on, want relayed views only of `neighbors` (any order), or of every member when nil.
    /// Watermarks already held are kept.
    public mutating func wantRelayed(from neighbors: [MemberIndex]?) {
        interest = neighbors?.sorted()
        interestIsSlots = false
    }

    /// The version that marks a member as pinned: no view is ever newer.
    public static let pinnedVersion = ViewVersion(incarnation: .max, sequence: .max)

    /// The lowest version, (0, 0): an empty slot's stored value.
    @usableFromInline static var zeroVersion: ViewVersion { ViewVersion(incarnation: 0, sequence: 0) }

    /// Slot k's stored value, read without touching the array's header (k comes from a search of
    /// `slotMembers`, which has as many elements as `slotMarks`).
    @inlinable @inline(__always)
    func storedMark(_ k: Int) -> ViewVersion {
        if let external { return external.load(at: k) }
        return slotMarks.withUnsafeBufferPointer { $0[k] }
    }

    /// Slot k's watermark: nil when nothing was accepted from its member.
    @inlinable @inline(__always)
    func slotMark(_ k: Int) -> ViewVersion? {
        let mark = storedMark(k)
        return mark == Self.zeroVersion && !zeroMarks.contains(k) ? nil : mark
    }

    /// `version` is newer than slot k's watermark (any version is, when nothing was accepted).
    @inlinable @inline(__always)
    func isNewer(_ version: ViewVersion, slot k: Int) -> Bool {
        let mark = storedMark(k)
        // Only (0, 0) is not above the empty slot's stored (0, 0): it is newer unless a (0, 0) was accepted.
        return version > mark || (version == Self.zeroVersion && mark == Self.zeroVersion && !zeroMarks.contains(k))
    }

    /// The highest version accepted from `member`, or nil when none was.
    @inlinable
    public subscript(member: MemberIndex) -> ViewVersion? {
        if isSparse {
            if let k = slotMembers.positionInSorted(of: member) { return slotMark(k) }
            return sparse[member]
        }
        return member.int < versions.count ? versions[member.int] : nil
    }

    /// True when a view of `member` at `version` would be newer than the watermark.
    @inlinable
    public func isNewer(_ version: ViewVersion, than member: MemberIndex) -> Bool {
        if isSparse, let k = slotMembers.positionInSorted(of: member) { return isNewer(version, slot: k) }
        guard let mark = self[member] else { return true }
        return version > mark
    }

    /// True when a relayed view of `member` is of use to this node (always, outside neighbourhood mode).
    @inlinable
    public func wantsRelayed(from member: MemberIndex) -> Bool {
        guard let interest else { return true }
        return interest.positionInSorted(of: member) != nil
    }

    /// `wantsRelayed(from: member) && isNewer(version, than: member)`, with one search in neighbourhood mode.
    @inlinable
    public func wantsNewRelayed(_ version: ViewVersion, from member: MemberIndex) -> Bool {
        if isSparse, interestIsSlots {
            guard let k = slotMembers.positionInSorted(of: member) else { return false }
            return isNewer(version, slot: k)
        }
        return wantsRelayed(from: member) && isNewer(version, than: member)
    }

    /// Never accept views of `member` again (the local node pins itself: its own views relayed back,
    /// or a forged copy of them, must never be taken as news).
    public mutating func pin(_ member: MemberIndex) {
        advance(member, to: Self.pinnedVersion)
    }

    /// Raises `member`'s watermark to `version` (never lowers it).
    @inlinable
    public mutating func advance(_ member: MemberIndex, to version: ViewVersion) {
        if isSparse {
            if let k = slotMembers.positionInSorted(of: member) {
                if let mark = slotMark(k), mark >= version { return }
                if let external { external.store(version, at: k) } else { slotMarks[k] = version }
                if version == Self.zeroVersion {
                    zeroMarks.append(k)
                    zeroMarks.sort()
                } else if !zeroMarks.isEmpty, let z = zeroMarks.firstIndex(of: k) {
                    zeroMarks.remove(at: z)  // raised above (0, 0): the slot's value says it alone
                }
                return
            }
            if let mark = sparse[member], mark >= version { return }
            sparse[member] = version
            return
        }
        if member.int >= versions.count {
            versions.append(contentsOf: repeatElement(nil, count: member.int + 1 - versions.count))
        }
        if let mark = versions[member.int], mark >= version { return }
        versions[member.int] = version
    }
}

/// Caller-owned memory for the slot watermarks of `ViewWatermarks(neighbors:slots:)`: slot k's
/// watermark is the `ViewVersion` stored at byte `k * byteStride` from `base`, so the caller can keep
/// other per-neighbour state between them. The caller keeps the memory allocated, and gives no other
/// watermarks the same slots, for as long as the watermarks use it.
public struct ExternalSlotMarks: Hashable, @unchecked Sendable {
    /// Slot 0's watermark.
    public let base: UnsafeMutableRawPointer
    /// Bytes from one slot's watermark to the next (at least 16).
    public let byteStride: Int

    /// Slots at `base`, `byteStride` bytes apart; `base` is aligned for `UInt64`.
    public init(base: UnsafeMutableRawPointer, byteStride: Int) {
        precondition(byteStride >= MemoryLayout<ViewVersion>.size, "slots overlap")
        self.base = base
        self.byteStride = byteStride
    }

    @inlinable @inline(__always)
    func load(at k: Int) -> ViewVersion {
        let p = base + k &* byteStride
        return ViewVersion(incarnation: p.load(as: UInt64.self), sequence: p.load(fromByteOffset: 8, as: UInt64.self))
    }

    @inlinable @inline(__always)
    func store(_ version: ViewVersion, at k: Int) {
        let p = base + k &* byteStride
        p.storeBytes(of: version.incarnation, as: UInt64.self)
        p.storeBytes(of: version.sequence, toByteOffset: 8, as: UInt64.self)
    }
}
