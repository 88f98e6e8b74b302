/// A discrete event queue on integer nanoseconds. Ties at one instant are broken by insertion order
/// (a strictly increasing sequence number), so a run never depends on the queue's internals: (time, seq)
/// is a total order, and every pop returns the smallest pair queued.
///
/// Most events are deliveries a few milliseconds ahead, so the near future is a calendar: a ring of
/// `bucketCount` buckets of 2^20 ns (~1 ms) each, ~67 ms in all (a ring of ~1 s was slower: cycling
/// through a thousand buckets' storage every second crowds the caches the fleet's state needs). A push appends a 16-byte key (time,
/// then the sequence number with the payload's slot in its low bits) to its bucket, unsorted; only the
/// bucket being drained (`base`) is kept sorted, once, when the queue reaches it, so a push and a pop
/// cost a few dozen instructions instead of a heap's sift through several levels. Keys further ahead go
/// to a 4-ary overflow heap (four children share one cache line); `base` never passes the heap's root,
/// and a push earlier than `base` (never from the simulator) is inserted into the sorted bucket. Beside
/// them an in-order lane: entries pushed with `pushInOrder` whose time is not earlier than the lane's
/// last wait in a plain FIFO (the periodic ticks of every node). The payloads wait in a slab of reused
/// slots. `pop` takes the smallest of the three heads, so the order is exactly that of one heap.
struct EventQueue<Payload> {
    struct Entry {
        var time: Int64
        var seq: UInt64
        var payload: Payload
    }

    /// A key: `packed` is `seq << slotBits | slot`; sequence numbers are unique, so (time, packed)
    /// orders exactly as (time, seq).
    struct Key {
        var time: Int64
        var packed: UInt64
        /// A prefetch hint for the event (`PrefetchHint`; 0 for none): never part of the order.
        var hint: UInt64
    }

    static var slotBits: UInt64 { 24 }
    /// Bucket b holds times in [b << bucketShift, (b + 1) << bucketShift).
    static var bucketShift: Int64 { 20 }
    static var bucketCount: Int { 64 }

    /// The calendar: bucket b (absolute number) is `buckets[b & (bucketCount - 1)]`; every key in it has
    /// base <= b < base + bucketCount (or, pushed into the past, sits in the sorted bucket `base`).
    private var buckets: [[Key]]
    /// Bit per ring position: the bucket holds keys.
    private var occupied: [UInt64]
    /// The bucket being drained: its keys from `head` on are sorted.
    private var base: Int64 = 0
    private var head = 0
    private var bucketed = 0
    /// Keys beyond the calendar's reach when pushed.
    private var heap: [Key] = []
    /// The payloads by slot; nil = free (its index is in `freeSlots`).
    private var slab: [Payload?] = []
    /// Per slot: the address of an object the event will read (`push(at:_:hint:object:)`), for prefetching.
    private var objects: [UInt] = []
    private var freeSlots: [UInt32] = []
    private var nextSeq: UInt64 = 0
    /// The in-order lane: entries `laneHead...` are queued, ascending by (time, seq); a popped entry's
    /// payload is moved out (nil) at once, its key stays until the lane is compacted.
    private var laneKeys: [(time: Int64, seq: UInt64)] = []
    private var lanePayloads: [Payload?] = []
    private var laneHead = 0
    /// The lane's prefetch hints, beside `laneKeys`.
    private var laneHints: [UInt64] = []

    init() {
        buckets = Array(repeating: [], count: Self.bucketCount)
        occupied = Array(repeating: 0, count: Self.bucketCount / 64)
        slab.reserveCapacity(1024)
        freeSlots.reserveCapacity(1024)
    }

    var count: Int { bucketed + heap.count + laneKeys.count - laneHead }
    var isEmpty: Bool { count == 0 }

    var peekTime: Int64? {
        @inline(__always) get {
        var best: Int64? = nil
        if let k = calendarHead { best = k.time }
        if let h = heap.first?.time, best.map({ h < $0 }) ?? true { best = h }
        if laneHead < laneKeys.count, case let t = laneKeys[laneHead].time, best.map({ t < $0 }) ?? true { best = t }
        return best
        }
    }

    /// The smallest key of the calendar (the sorted bucket's head), if any.
    private var calendarHead: Key? {
        buckets.withUnsafeBufferPointer { all in
            all[Self.ring(base)].withUnsafeBufferPointer { b in head < b.count ? b[head] : nil }
        }
    }

    // MARK: Prefetch hints (`Simulation+Prefetch.swift`): they only look ahead, never change the order.

    /// The hints and slab slots of the calendar's next three events, the third first ((0, 0) where the
    /// current bucket holds no such event; heap and lane events are not looked at, so an entry may name
    /// an event that comes later than that: a hint, never a promise).
    @inline(__always)
    func upcoming() -> (third: (hint: UInt64, slot: Int), second: (hint: UInt64, slot: Int), first: (hint: UInt64, slot: Int)) {
        buckets.withUnsafeBufferPointer { all in
            all[Self.ring(base)].withUnsafeBufferPointer { b in
                @inline(__always) func at(_ k: Int) -> (hint: UInt64, slot: Int) {
                    k < b.count ? (b[k].hint, Int(b[k].packed & (1 << Self.slotBits - 1))) : (0, 0)
                }
                return (at(head &+ 2), at(head &+ 1), at(head))
            }
        }
    }

    /// The address where slot `slot`'s object address is stored (to prefetch it).
    @inline(__always)
    func objectEntryAddress(_ slot: Int) -> UnsafeRawPointer? {
        objects.withUnsafeBufferPointer { o in slot < o.count ? o.baseAddress.map { UnsafeRawPointer($0 + slot) } : nil }
    }

    /// The object address pushed with slot `slot`'s event (0 for none).
    @inline(__always)
    func object(_ slot: Int) -> UInt {
        objects.withUnsafeBufferPointer { o in slot < o.count ? o[slot] : 0 }
    }

    /// The lane's next event: its sequence number (names it) and hint; (0, 0) when the lane is empty.
    @inline(__always)
    func laneNext() -> (seq: UInt64, hint: UInt64) {
        laneHead < laneKeys.count ? (laneKeys[laneHead].seq, laneHints[laneHead]) : (0, 0)
    }

    @inline(__always)
    private static func ring(_ bucket: Int64) -> Int { Int(bucket) & (bucketCount - 1) }

    @inline(__always)
    private static func less(_ a: Key, _ b: Key) -> Bool {
        a.time != b.time ? a.time < b.time : a.packed < b.packed
    }

    /// `push`, for an entry that is usually not earlier than the previous one pushed this way (a
    /// node's next tick): then it waits in the in-order lane, else in the calendar. Pops the same either way.
    mutating func pushInOrder(at time: Int64, _ payload: Payload, hint: UInt64 = 0) {
        guard laneKeys.isEmpty || time >= laneKeys[laneKeys.count - 1].time else {
            push(at: time, payload, hint: hint)
            return
        }
        if laneHead == laneKeys.count {
            laneKeys.removeAll(keepingCapacity: true)
            lanePayloads.removeAll(keepingCapacity: true)
            laneHints.removeAll(keepingCapacity: true)
            laneHead = 0
        } else if laneHead >= 4096, laneHead * 2 >= laneKeys.count {
            laneKeys.removeFirst(laneHead)
            lanePayloads.removeFirst(laneHead)
            laneHints.removeFirst(laneHead)
            laneHead = 0
        }
        let seq = nextSeq
        nextSeq &+= 1
        laneKeys.append((time, seq))
        lanePayloads.append(payload)
        laneHints.append(hint)
    }

    mutating func push(at time: Int64, _ payload: Payload, hint: UInt64 = 0, object: UInt = 0) {
        let seq = nextSeq
        nextSeq &+= 1
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = Int(free)
            slab[slot] = payload
            objects[slot] = object
        } else {
            slot = slab.count
            slab.append(payload)
            objects.append(object)
        }
        precondition(seq < 1 << (64 - Self.slotBits) && slot < 1 << Self.slotBits, "event queue capacity exceeded")
        let key = Key(time: time, packed: seq << Self.slotBits | UInt64(slot), hint: hint)
        let b = time >> Self.bucketShift
        if b >= base &+ Int64(Self.bucketCount) {
            pushHeap(key)
        } else if b <= base {
            insertSorted(key)
        } else {
            let r = Self.ring(b)
            buckets[r].append(key)
            occupied[r >> 6] |= 1 << UInt64(r & 63)
            bucketed += 1
            // The calendar was empty: its next bucket is this one (unless the heap's root is earlier).
            if head >= buckets[Self.ring(base)].count { advanceBase() }
        }
    }

    /// Pops the smallest (time, seq) of the calendar, the heap and the lane. (Inlined: returned out of
    /// line, the entry was destroyed through generic value witnesses at every call site.)
    @inline(__always)
    mutating func pop() -> Entry? {
        var source = 0  // 0 none, 1 calendar, 2 heap, 3 lane
        var best = Key(time: .max, packed: .max, hint: 0)
        if let k = calendarHead {
            best = k
            source = 1
        }
        if let h = heap.first, source == 0 || Self.less(h, best) {
            best = h
            source = 2
        }
        if laneHead < laneKeys.count {
            let l = laneKeys[laneHead]
            if source == 0 || l.time < best.time || (l.time == best.time && l.seq < best.packed >> Self.slotBits) {
                let payload = lanePayloads[laneHead].take()!
                laneHead += 1
                return Entry(time: l.time, seq: l.seq, payload: payload)
            }
        }
        switch source {
        case 1:
            head += 1
            bucketed -= 1
            if head >= buckets[Self.ring(base)].count { advanceBase() }
        case 2:
            popHeapRoot()
            // The calendar may be waiting for the heap's root: move on if the root moved past it.
            if head >= buckets[Self.ring(base)].count { advanceBase() }
        default:
            return nil
        }
        let slot = Int(best.packed & (1 << Self.slotBits - 1))
        let payload = slab[slot].take()!
        freeSlots.append(UInt32(slot))
        return Entry(time: best.time, seq: best.packed >> Self.slotBits, payload: payload)
    }

    /// The bucket being drained is empty: empty it for reuse, then make the next occupied bucket the
    /// one being drained (sorted now), but never past the heap's root, so that `base` stays at or below
    /// every queued time (a push lands in a bucket at or after `base`).
    private mutating func advanceBase() {
        let r = Self.ring(base)
        if !buckets[r].isEmpty {
            buckets[r].removeAll(keepingCapacity: true)
            occupied[r >> 6] &= ~(1 << UInt64(r & 63))
        }
        head = 0
        var next: Int64 = .max
        if bucketed > 0, let d = nextOccupied(after: r) { next = base &+ Int64(d) }
        if let h = heap.first { next = min(next, h.time >> Self.bucketShift) }
        guard next != .max, next > base else { return }
        base = next
        let nr = Self.ring(base)
        if buckets[nr].count > 1 { Self.sort(&buckets[nr]) }
    }

    /// Ring distance (1 ..< bucketCount) from position `r` to the next occupied position.
    private func nextOccupied(after r: Int) -> Int? {
        let words = Self.bucketCount / 64
        var w = ((r + 1) & (Self.bucketCount - 1)) >> 6
        let first = (r + 1) & 63
        // The first word from bit `first`, then whole words, then the first word's low bits again.
        var bits = occupied[w] & (~0 << UInt64(first))
        var scanned = 0
        while true {
            if bits != 0 {
                let p = w << 6 | bits.trailingZeroBitCount
                let d = (p - r) & (Self.bucketCount - 1)
                return d == 0 ? nil : d
            }
            scanned += 1
            if scanned > words { return nil }
            w = (w + 1) % words
            bits = occupied[w]
        }
    }

    /// Puts `key` into the bucket being drained at its sorted place (a push at or before `base`).
    private mutating func insertSorted(_ key: Key) {
        let r = Self.ring(base)
        var lo = head
        var hi = buckets[r].count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if Self.less(buckets[r][mid], key) { lo = mid + 1 } else { hi = mid }
        }
        buckets[r].insert(key, at: lo)
        occupied[r >> 6] |= 1 << UInt64(r & 63)
        bucketed += 1
    }

    /// Sorts a bucket by (time, packed): insertion sort for the usual handful, else the library's.
    private static func sort(_ keys: inout [Key]) {
        if keys.count > 24 {
            keys.sort(by: less)
            return
        }
        keys.withUnsafeMutableBufferPointer { k in
            for i in 1..<k.count {
                let x = k[i]
                var j = i
                while j > 0, less(x, k[j - 1]) {
                    k[j] = k[j - 1]
                    j -= 1
                }
                k[j] = x
            }
        }
    }

    private mutating func pushHeap(_ key: Key) {
        heap.append(key)
        heap.withUnsafeMutableBufferPointer { h in
            // The new key leaves a hole at the end; parents move down into it until its place is found.
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) >> 2
                guard Self.less(key, h[parent]) else { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = key
        }
    }

    private mutating func popHeapRoot() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap.withUnsafeMutableBufferPointer { h in
            // The root leaves a hole; the smallest child moves up into it until `last` fits there.
            let n = h.count
            var i = 0
            while true {
                let first = 4 * i + 1
                guard first < n else { break }
                var m = first
                let end = min(first + 4, n)
                var c = first + 1
                while c < end {
                    if Self.less(h[c], h[m]) { m = c }
                    c += 1
                }
                guard Self.less(h[m], last) else { break }
                h[i] = h[m]
                i = m
            }
            h[i] = last
        }
    }
}
