/// A discrete event queue on integer nanoseconds. Ties at one instant are broken by insertion order
/// (a strictly increasing sequence number), so a run never depends on heap internals: (time, seq) is a
/// total order, and any correct heap pops the same sequence.
///
/// A 4-ary heap of 16-byte keys (time, then the sequence number with the payload's slot in its low
/// bits: four children share one cache line, and sifting moves no payload), the payloads waiting in
/// a slab of reused slots; beside it an in-order lane: entries pushed with `pushInOrder` whose time is
/// not earlier than the lane's last wait in a plain FIFO (the periodic ticks of every node: most of
/// the pending events, kept out of the heap). Both hold entries in (time, seq) order, and `pop` takes
/// the smaller head, so the order is exactly that of one heap.
struct EventQueue<Payload> {
    struct Entry {
        var time: Int64
        var seq: UInt64
        var payload: Payload
    }

    /// A heap key: `packed` is `seq << slotBits | slot`; sequence numbers are unique, so (time, packed)
    /// orders exactly as (time, seq).
    struct Key {
        var time: Int64
        var packed: UInt64
    }

    static var slotBits: UInt64 { 24 }
    private var heap: [Key] = []
    /// The heap's payloads by slot; nil = free (its index is in `freeSlots`).
    private var slab: [Payload?] = []
    private var freeSlots: [UInt32] = []
    private var nextSeq: UInt64 = 0
    /// The in-order lane: entries `laneHead...` are queued, ascending by (time, seq); a popped entry's
    /// payload is moved out (nil) at once, its key stays until the lane is compacted.
    private var laneKeys: [(time: Int64, seq: UInt64)] = []
    private var lanePayloads: [Payload?] = []
    private var laneHead = 0

    init() {
        heap.reserveCapacity(1024)
        slab.reserveCapacity(1024)
        freeSlots.reserveCapacity(1024)
    }

    var count: Int { heap.count + laneKeys.count - laneHead }
    var isEmpty: Bool { heap.isEmpty && laneHead == laneKeys.count }
    var peekTime: Int64? {
        let h = heap.first?.time
        guard laneHead < laneKeys.count else { return h }
        let t = laneKeys[laneHead].time
        guard let h else { return t }
        return min(t, h)
    }

    /// `push`, for an entry that is usually not earlier than the previous one pushed this way (a
    /// node's next tick): then it waits in the in-order lane, else in the heap. Pops the same either way.
    mutating func pushInOrder(at time: Int64, _ payload: Payload) {
        guard laneKeys.isEmpty || time >= laneKeys[laneKeys.count - 1].time else {
            push(at: time, payload)
            return
        }
        if laneHead == laneKeys.count {
            laneKeys.removeAll(keepingCapacity: true)
            lanePayloads.removeAll(keepingCapacity: true)
            laneHead = 0
        } else if laneHead >= 4096, laneHead * 2 >= laneKeys.count {
            laneKeys.removeFirst(laneHead)
            lanePayloads.removeFirst(laneHead)
            laneHead = 0
        }
        let seq = nextSeq
        nextSeq &+= 1
        laneKeys.append((time, seq))
        lanePayloads.append(payload)
    }

    /// Pops the smallest (time, seq) of the lane and the heap.
    mutating func pop() -> Entry? {
        if laneHead < laneKeys.count {
            let head = laneKeys[laneHead]
            let rootFirst = heap.withUnsafeBufferPointer { h in
                h.isEmpty ? false : h[0].time != head.time ? h[0].time < head.time : h[0].packed >> Self.slotBits < head.seq
            }
            if rootFirst { return popHeap() }
            let payload = lanePayloads[laneHead].take()!
            laneHead += 1
            return Entry(time: head.time, seq: head.seq, payload: payload)
        }
        return popHeap()
    }

    @inline(__always)
    private static func less(_ a: Key, _ b: Key) -> Bool {
        a.time != b.time ? a.time < b.time : a.packed < b.packed
    }

    mutating func push(at time: Int64, _ payload: Payload) {
        let seq = nextSeq
        nextSeq &+= 1
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = Int(free)
            slab[slot] = payload
        } else {
            slot = slab.count
            slab.append(payload)
        }
        precondition(seq < 1 << (64 - Self.slotBits) && slot < 1 << Self.slotBits, "event queue capacity exceeded")
        let key = Key(time: time, packed: seq << Self.slotBits | UInt64(slot))
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

    private mutating func popHeap() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
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
        let slot = Int(top.packed & (1 << Self.slotBits - 1))
        let payload = slab[slot].take()!
        freeSlots.append(UInt32(slot))
        return Entry(time: top.time, seq: top.packed >> Self.slotBits, payload: payload)
    }
}
