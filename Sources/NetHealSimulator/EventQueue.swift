/// A discrete event queue on integer nanoseconds. Ties at one instant are broken by insertion order
/// (a strictly increasing sequence number), so a run never depends on heap internals.
struct EventQueue<Payload> {
    struct Entry {
        var time: Int64
        var seq: UInt64
        var payload: Payload
    }

    private var heap: [Entry] = []
    private var nextSeq: UInt64 = 0

    init() { heap.reserveCapacity(1024) }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var peekTime: Int64? { heap.first?.time }

    @inline(__always)
    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.seq < b.seq
    }

    mutating func push(at time: Int64, _ payload: Payload) {
        heap.append(Entry(time: time, seq: nextSeq, payload: payload))
        nextSeq &+= 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard Self.less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        if heap.count == 1 { return heap.removeLast() }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        let n = heap.count
        while true {
            let l = 2 * i + 1
            guard l < n else { break }
            var m = l
            if l + 1 < n, Self.less(heap[l + 1], heap[l]) { m = l + 1 }
            guard Self.less(heap[m], heap[i]) else { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }
}
