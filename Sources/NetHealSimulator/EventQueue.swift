/// A discrete event queue on integer nanoseconds. Ties at one instant are broken by insertion order
/// (a strictly increasing sequence number), so a run never depends on heap internals: (time, seq) is a
/// total order, and any correct heap pops the same sequence.
///
/// A 4-ary heap (shallower than a binary one: fewer cache lines touched per pop), sifted by moving a
/// hole rather than swapping (raw moves: no reference counting of payloads while sifting), beside an
/// in-order lane: entries pushed with `pushInOrder` whose time is not earlier than the lane's last
/// wait in a plain FIFO (the periodic ticks of every node: most of the pending events, kept out of the
/// heap). Both hold entries in (time, seq) order, and `pop` takes the smaller head, so the order is
/// exactly that of one heap.
struct EventQueue<Payload> {
    struct Entry {
        var time: Int64
        var seq: UInt64
        var payload: Payload
    }

    private var heap: [Entry] = []
    private var nextSeq: UInt64 = 0
    /// The in-order lane: entries `laneHead...` are queued, ascending by (time, seq); a popped entry's
    /// payload is moved out (nil) at once, its key stays until the lane is compacted.
    private var laneKeys: [(time: Int64, seq: UInt64)] = []
    private var lanePayloads: [Payload?] = []
    private var laneHead = 0

    init() { heap.reserveCapacity(1024) }

    var count: Int { heap.count + laneKeys.count - laneHead }
    var isEmpty: Bool { heap.isEmpty && laneHead == laneKeys.count }
    var peekTime: Int64? {
        // The heap's first time read in place (`heap.first` copied the entry, payload included).
        let h = heap.withUnsafeBufferPointer { $0.isEmpty ? nil : $0[0].time }
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
                h.isEmpty ? false : h[0].time != head.time ? h[0].time < head.time : h[0].seq < head.seq
            }
            if rootFirst { return popHeap() }
            let payload = lanePayloads[laneHead].take()!
            laneHead += 1
            return Entry(time: head.time, seq: head.seq, payload: payload)
        }
        return popHeap()
    }

    @inline(__always)
    private static func less(_ time: Int64, _ seq: UInt64, than b: UnsafeMutablePointer<Entry>) -> Bool {
        time != b.pointee.time ? time < b.pointee.time : seq < b.pointee.seq
    }

    @inline(__always)
    private static func less(_ a: UnsafeMutablePointer<Entry>, than b: UnsafeMutablePointer<Entry>) -> Bool {
        less(a.pointee.time, a.pointee.seq, than: b)
    }

    mutating func push(at time: Int64, _ payload: Payload) {
        let seq = nextSeq
        nextSeq &+= 1
        heap.append(Entry(time: time, seq: seq, payload: payload))
        heap.withUnsafeMutableBufferPointer { h in
            // The new entry leaves a hole at the end; parents move down into it until its place is found.
            let base = h.baseAddress!
            var i = h.count - 1
            let item = (base + i).move()
            while i > 0 {
                let parent = (i - 1) >> 2
                guard Self.less(time, seq, than: base + parent) else { break }
                (base + i).moveInitialize(from: base + parent, count: 1)
                i = parent
            }
            (base + i).initialize(to: item)
        }
    }

    private mutating func popHeap() -> Entry? {
        guard !heap.isEmpty else { return nil }
        if heap.count == 1 { return heap.removeLast() }
        let last = heap.removeLast()
        var top: Entry?
        heap.withUnsafeMutableBufferPointer { h in
            // The root leaves a hole; the smallest child moves up into it until `last` fits there.
            let base = h.baseAddress!
            let n = h.count
            top = base.move()
            var i = 0
            while true {
                let first = 4 * i + 1
                guard first < n else { break }
                var m = first
                let end = min(first + 4, n)
                var c = first + 1
                while c < end {
                    if Self.less(base + c, than: base + m) { m = c }
                    c += 1
                }
                let child = base + m
                guard child.pointee.time != last.time ? child.pointee.time < last.time : child.pointee.seq < last.seq else { break }
                (base + i).moveInitialize(from: base + m, count: 1)
                i = m
            }
            (base + i).initialize(to: last)
        }
        return top
    }
}
