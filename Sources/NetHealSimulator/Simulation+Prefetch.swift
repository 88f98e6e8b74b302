import CPrefetch
import Foundation
import NetHealCore
import NetHealWire

/// What an event in the queue will read first, packed in one word beside its key (`EventQueue.Key.hint`).
///
/// Bit 63: the event is node `bits 32…55`'s (a tick, a probe round, a delivery to it). Bit 62: it is a
/// delivery whose sender has a cell in the receiver's row, cell `bits 0…31` (`NeighbourCells`). 0: no hint.
enum PrefetchHint {
    static let nodeFlag: UInt64 = 1 << 63
    static let cellFlag: UInt64 = 1 << 62

    /// An event of node `i`.
    @inline(__always)
    static func node(_ i: Int) -> UInt64 { nodeFlag | UInt64(truncatingIfNeeded: i & 0xFF_FFFF) << 32 }

    /// A delivery to `receiver`, whose cell for the sender is `cell` (nil: none).
    @inline(__always)
    static func delivery(to receiver: Int, cell: Int?) -> UInt64 {
        guard let cell else { return node(receiver) }
        return node(receiver) | cellFlag | UInt64(truncatingIfNeeded: cell & 0xFFFF_FFFF)
    }

    @inline(__always)
    static func nodeOf(_ hint: UInt64) -> Int { Int(truncatingIfNeeded: (hint >> 32) & 0xFF_FFFF) }

    @inline(__always)
    static func cellOf(_ hint: UInt64) -> Int { Int(truncatingIfNeeded: hint & 0xFFFF_FFFF) }
}

/// Prefetching: while one event runs, the lines the next events will miss on are fetched.
///
/// A fleet's state is spread over megabytes, and each delivery lands on a receiver chosen at random:
/// its first touch of the receiver's cell and peer state missed every cache (a CPU-clock profile put
/// ~25 % of the wall time on those two loads; docs/performance.md §4, session 9). The queue knows the
/// next events, so after each pop the engine looks a few events ahead and asks the CPU for their lines,
/// in three stages so that no stage waits on a line that is not there yet:
///
/// - three events ahead: the lines of the receiver's core a delivery reads, its cell for the sender, its
///   row of neighbours in the cell table, the queue's note of the datagram's address;
/// - two ahead: the peer state the delivery updates and its storage header, the receiver's neighbour
///   list (the core arrived meanwhile), and the datagram's object;
/// - one ahead: the datagram's views, the sender's reach list, the view the receiver's cell keeps
///   (the cell arrived meanwhile), and the receiver's cells for the relayed views' origins.
///
/// A tick (the lane) gets its core as soon as it is the lane's next event, its peer states (a gossip
/// round reads them all) one event later, and the views it will likely relay (where the core's
/// round-robin relay choice went on from last time) over three events. Only addresses are computed and
/// only live references are read; nothing is changed. The hints may name an event that does not come
/// next (the calendar's stages do not consult the heap and the lane), which costs a wasted fetch,
/// never a different result. Every trace is unchanged.
extension Simulation {
    /// Prefetching is on unless `NETHEAL_SIM_NO_PREFETCH` is set (to measure it side by side).
    static var prefetchEnabled: Bool { ProcessInfo.processInfo.environment["NETHEAL_SIM_NO_PREFETCH"] == nil }

    /// Lines of a `SentDatagram` object and of its views' storage fetched ahead.
    static var datagramLines: Int { 3 }
    static var viewLines: Int { 4 }

    /// After a pop: fetch what the next events will read (see above).
    @inline(__always)
    func prefetchAhead() {
        guard prefetching else { return }
        let (far, near, next) = queue.upcoming()
        if far.hint & PrefetchHint.nodeFlag != 0 {
            let r = PrefetchHint.nodeOf(far.hint)
            if far.hint & PrefetchHint.cellFlag != 0 {
                // A delivery reads few lines of the core; its row of neighbours is searched for the
                // relayed views' origins (one event ahead).
                prefetchCore(r, lines: Self.deliveryCoreLines)
                netheal_prefetch(cells.address(PrefetchHint.cellOf(far.hint)))
                let row = cells.rowAddress(r)
                netheal_prefetch(row)
                netheal_prefetch(row + 63)
            } else {
                prefetchCore(r)
            }
            if let entry = queue.objectEntryAddress(far.slot) { netheal_prefetch(entry) }
        }
        if near.hint & PrefetchHint.cellFlag != 0 {
            let r = PrefetchHint.nodeOf(near.hint)
            let c = PrefetchHint.cellOf(near.hint)
            netheal_prefetch(cells.address(c))
            if let peer = nodes[r].peerStateHint(position: c - cells.rowStart(r)) {
                netheal_prefetch(peer.element)
                netheal_prefetch(peer.storage)
            }
            // The receiver's sorted neighbour list (one storage shared by its core and its watermarks:
            // both search it for the sender): header and 32 two-byte members.
            if let list = nodes[r].neighborListHint() {
                netheal_prefetch(list)
                netheal_prefetch(list + 64)
            }
        }
        if near.hint != 0, let datagram = UnsafeRawPointer(bitPattern: queue.object(near.slot)) {
            for line in 0..<Self.datagramLines { netheal_prefetch(datagram + 64 * line) }
        }
        if next.hint != 0, let datagram = UnsafeRawPointer(bitPattern: queue.object(next.slot)) {
            // The event is still queued, so its datagram is alive: read four words of it, unretained.
            let (views, relayed, reach, subjects) = Unmanaged<SentDatagram>.fromOpaque(datagram)._withUnsafeGuaranteedRef {
                ($0.viewsAddress, $0.relayedOrigins, $0.senderReachAddress, $0.senderSubjectsAddress)
            }
            if let views = UnsafeRawPointer(bitPattern: views) {
                for line in 0..<Self.viewLines { netheal_prefetch(views + 64 * line) }
            }
            // The sender's reach list, which the receiver's core searches for itself.
            // (Each from its storage header, 32 bytes before the first element, which a copy retains.)
            if let reach = UnsafeRawPointer(bitPattern: reach) {
                netheal_prefetch(reach - 32)
                netheal_prefetch(reach + 32)
            }
            if let subjects = UnsafeRawPointer(bitPattern: subjects) {
                netheal_prefetch(subjects - 32)
                netheal_prefetch(subjects + 32)
            }
            let r = PrefetchHint.nodeOf(next.hint)
            // The view the receiver's cell for the sender keeps (released when this one replaces it).
            if next.hint & PrefetchHint.cellFlag != 0,
                let kept = UnsafeRawPointer(bitPattern: cells.keptAddress(PrefetchHint.cellOf(next.hint)))
            {
                netheal_prefetch(kept)
            }
            // The receiver's cells for the relayed views' origins (the decoder checks each against them).
            var rest = relayed
            while rest & 0xFFFF != 0xFFFF {
                if let c = cells.cell(r, Int(rest & 0xFFFF)) { netheal_prefetch(cells.address(c)) }
                rest >>= 16
            }
        }
        prefetchNextTick()
    }

    /// How many neighbours from `relayNext` a tick's relay prefetch covers (the core relays 2 by
    /// default, the first of them with a recent first-hand view from there on).
    static var relayLookahead: Int { 4 }

    /// The lane's next tick, one stage per event from when it first shows (a tick is ~10 events away
    /// then): its core and the cells where its relays likely start; its peer states (the gossip round
    /// reads them all) and the views those cells keep; those views' bytes (copied into the datagram).
    @inline(__always)
    func prefetchNextTick() {
        let tick = queue.laneNext()
        guard tick.hint != 0 else { return }
        let i = PrefetchHint.nodeOf(tick.hint)
        if tick.seq != laneTickSeen {
            laneTickSeen = tick.seq
            laneTickStage = 1
            prefetchCore(i)
            forLikelyRelayCells(i) { netheal_prefetch(cells.address($0)) }
            return
        }
        switch laneTickStage {
        case 1:
            if let extent = nodes[i].peerStateExtentHint(neighborCount: cells.rowCount(i)) {
                var offset = 0
                while offset < extent.bytes {
                    netheal_prefetch(extent.start + offset)
                    offset += 64
                }
            }
            forLikelyRelayCells(i) { c in
                if let kept = UnsafeRawPointer(bitPattern: cells.keptAddress(c)) {
                    netheal_prefetch(kept)
                    netheal_prefetch(kept + 64)
                }
            }
        case 2:
            forLikelyRelayCells(i) { c in
                // Read through the reference the cell holds now (alive), never a remembered one.
                guard let kept = UnsafeRawPointer(bitPattern: cells.keptAddress(c)) else { return }
                let bytes = Unmanaged<KeptView>.fromOpaque(kept)._withUnsafeGuaranteedRef { $0.bytesAddress }
                if let bytes = UnsafeRawPointer(bitPattern: bytes) {
                    for line in 0..<Self.viewLines { netheal_prefetch(bytes + 64 * line) }
                }
            }
        default:
            return
        }
        laneTickStage += 1
    }

    /// Calls `body` with the cells of node `i`'s `relayLookahead` neighbours from `relayNext[i]` on.
    @inline(__always)
    func forLikelyRelayCells(_ i: Int, _ body: (Int) -> Void) {
        let count = cells.rowCount(i)
        let next = Int(relayNext[i])
        guard count > 0, next >= 0 else { return }
        let start = cells.rowStart(i)
        var position = next % count
        for _ in 0..<min(Self.relayLookahead, count) {
            body(start + position)
            position += 1
            if position == count { position = 0 }
        }
    }

    /// The lines of a `NodeCore` a delivery reads (its identity, neighbour list, peer storage and last
    /// contact in the first; the derived bounds in the next four; the state it announces in line 10),
    /// as a bit set. Fetching all 13 lines of the 800-byte core for every delivery filled the CPU's
    /// miss buffers (a CPU-clock profile put samples on the prefetch instructions themselves).
    static var deliveryCoreLines: UInt64 { 0b100_0001_1111 }

    /// Node `i`'s policy value (its fixed part: the lines in `lines`, default all) and its decoder
    /// watermarks.
    @inline(__always)
    func prefetchCore(_ i: Int, lines: UInt64 = .max) {
        guard i < n else { return }
        let core = UnsafeRawPointer(nodes.base + i)
        var offset = 0
        var line = 0
        while offset < MemoryLayout<P>.stride {
            if lines >> UInt64(line) & 1 != 0 { netheal_prefetch(core + offset) }
            offset += 64
            line += 1
        }
        let marks = UnsafeRawPointer(watermarks.base + i)
        netheal_prefetch(marks)
        netheal_prefetch(marks + (MemoryLayout<ViewWatermarks>.size - 1))
    }
}
