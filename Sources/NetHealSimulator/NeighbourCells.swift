import NetHealCore
import NetHealWire

/// What the simulator keeps per (receiver, neighbour) in neighbourhood mode, side by side in one
/// 64-byte cell (one cache line): the receiver's decoder watermark for that neighbour (the decoder
/// reads and advances it in place: `ViewWatermarks(neighbors:slots:)`), the checker's replay memory
/// (the highest version the receiver accepted from that neighbour) and the relay memory (the
/// neighbour's latest first-hand signed view, which the receiver relays). Each view a delivery carries
/// touches all three for its origin, so they share a line instead of living in three tables
/// (docs/performance.md §4, session 8: 9–13 % fewer cache misses than two tables).
///
/// A receiver's cells are found by binary search over its neighbours in a flat copy of the graph's rows
/// (two bytes a member: ~64 KB at 1,000 nodes, which stays in cache). Cells are whole lines, so the
/// parallel engine's two threads never write one line. Origins outside the
/// neighbourhood (a forged or odd sender) have no cell: their accepted versions go to a per-receiver
/// dictionary, and their views are not kept (the core relays only neighbours). Memory grows with the
/// edges of the graph, not with members².
///
/// Allocated once and never copied (copies share the storage, like `FixedArray`): the engine's threads
/// write their own receivers' cells in place. The owner calls `release()` once.
struct NeighbourCells {
    /// One (receiver, neighbour) cell; (0, 0) in `accepted` stands for "nothing accepted yet", below
    /// every real version.
    struct Cell {
        /// The decoder's watermark (owned by the receiver's `ViewWatermarks`, which reads and writes it
        /// as raw bytes at offset 0; nothing here reads it).
        var mark: ViewVersion
        var accepted: ViewVersion
        var kept: KeptView?
        /// Pads the cell to one 64-byte line.
        var padding: (UInt64, UInt64, UInt64) = (0, 0, 0)
    }

    /// Receiver r's cells are `start ..< start + count`.
    struct Row {
        var start: Int32
        var count: Int32
    }

    static let none = ViewVersion(incarnation: 0, sequence: 0)

    private let rows: FixedArray<Row>
    /// The neighbour of each cell, ascending within a receiver's block.
    private let members: FixedArray<MemberIndex>
    private let cells: UnsafeMutablePointer<Cell>
    private let cellCount: Int
    private let others: FixedArray<[Int: ViewVersion]>
    /// Where `Cell.kept` sits in a cell (an optional reference: one word, 0 for none).
    private let keptOffset = MemoryLayout<Cell>.offset(of: \.kept)!

    /// Cells for the receivers of `graph` (none for a full mesh, where the simulator keeps dense rows).
    init(graph: NeighborGraph, count n: Int) {
        var rowList: [Row] = []
        var memberList: [MemberIndex] = []
        if !graph.isFullMesh {
            rowList.reserveCapacity(n)
            for r in 0..<n {
                let row = graph.neighbors(of: MemberIndex(r))
                rowList.append(Row(start: Int32(memberList.count), count: Int32(row.count)))
                memberList += row
            }
        }
        rows = FixedArray(rowList)
        members = FixedArray(memberList)
        cellCount = memberList.count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, cellCount) * MemoryLayout<Cell>.stride, alignment: 64)
        cells = raw.bindMemory(to: Cell.self, capacity: max(1, cellCount))
        cells.initialize(repeating: Cell(mark: Self.none, accepted: Self.none, kept: nil), count: cellCount)
        others = FixedArray(repeating: [:], count: graph.isFullMesh ? 0 : n)
    }

    /// The cell of (`receiver`, `origin`), nil when `origin` is not a neighbour (or in a full mesh).
    @inline(__always)
    func cell(_ receiver: Int, _ origin: Int) -> Int? {
        guard receiver < rows.count, origin <= Int(UInt16.max) else { return nil }
        let row = rows[receiver]
        let neighbours = UnsafeBufferPointer(start: members.base + Int(row.start), count: Int(row.count))
        return neighbours.positionInSorted(of: MemberIndex(rawValue: UInt16(origin))).map { Int(row.start) + $0 }
    }

    // MARK: Prefetch hints (`Simulation+Prefetch.swift`)

    /// Receiver `r`'s first cell (cell `c` of `r` is its neighbour at position `c - rowStart(r)`, the
    /// position of that neighbour among the core's sorted `neighbors` as well).
    @inline(__always)
    func rowStart(_ r: Int) -> Int { Int(rows[r].start) }

    /// Receiver `r`'s number of cells (its neighbours).
    @inline(__always)
    func rowCount(_ r: Int) -> Int { r < rows.count ? Int(rows[r].count) : 0 }

    /// Where receiver `r`'s neighbours start in the flat member list (`cell(_:_:)` searches them).
    @inline(__always)
    func rowAddress(_ r: Int) -> UnsafeRawPointer {
        r < rows.count ? UnsafeRawPointer(members.base + Int(rows[r].start)) : UnsafeRawPointer(members.base)
    }

    /// The address of cell `c`.
    @inline(__always)
    func address(_ c: Int) -> UnsafeRawPointer { UnsafeRawPointer(cells + c) }

    /// The address of the view kept in cell `c` (0 for none), read without retaining it.
    @inline(__always)
    func keptAddress(_ c: Int) -> UInt {
        UnsafeRawPointer(cells + c).load(fromByteOffset: keptOffset, as: UInt.self)
    }

    // MARK: The decoder's watermarks

    /// The slots of `receiver`'s decoder watermarks, one per neighbour in ascending order (for
    /// `ViewWatermarks(neighbors:slots:)` with the same neighbours).
    func watermarkSlots(_ receiver: Int) -> ExternalSlotMarks {
        precondition(MemoryLayout<Cell>.offset(of: \Cell.mark) == 0 && MemoryLayout<Cell>.stride == 64)
        return ExternalSlotMarks(base: UnsafeMutableRawPointer(cells + Int(rows[receiver].start)), byteStride: MemoryLayout<Cell>.stride)
    }

    // MARK: The checker's replay memory

    /// Records `version` for (`receiver`, `origin`) when it is newer than the one stored and returns nil;
    /// otherwise changes nothing and returns the stored version.
    func raise(_ receiver: Int, _ origin: Int, to version: ViewVersion) -> ViewVersion? {
        if let k = cell(receiver, origin) {
            let last = cells[k].accepted
            if version <= last { return last }
            cells[k].accepted = version
            return nil
        }
        let last = others[receiver][origin] ?? Self.none
        if version <= last { return last }
        others[receiver][origin] = version
        return nil
    }

    /// Forgets everything `receiver` accepted (its agent restarted).
    func resetAccepted(_ receiver: Int) {
        guard receiver < rows.count else { return }
        let row = rows[receiver]
        for k in Int(row.start)..<(Int(row.start) + Int(row.count)) { cells[k].accepted = Self.none }
        others[receiver] = [:]
    }

    // MARK: The relay memory

    /// Keeps `kept` as `receiver`'s latest first-hand view of neighbour `origin` (nothing for another origin).
    @inline(__always)
    func keep(_ receiver: Int, _ origin: Int, _ kept: KeptView?) {
        if let k = cell(receiver, origin) { cells[k].kept = kept }
    }

    /// `receiver`'s latest first-hand view of neighbour `origin`, if any.
    @inline(__always)
    func kept(_ receiver: Int, _ origin: Int) -> KeptView? {
        guard let k = cell(receiver, origin) else { return nil }
        return cells[k].kept
    }

    /// The neighbours whose views `receiver` keeps, ascending.
    func keptOrigins(_ receiver: Int) -> [Int] {
        guard receiver < rows.count else { return [] }
        let row = rows[receiver]
        return (Int(row.start)..<(Int(row.start) + Int(row.count))).filter { cells[$0].kept != nil }.map { members[$0].int }
    }

    /// Drops every view `receiver` keeps (its agent restarted).
    func forgetKept(_ receiver: Int) {
        guard receiver < rows.count else { return }
        let row = rows[receiver]
        for k in Int(row.start)..<(Int(row.start) + Int(row.count)) { cells[k].kept = nil }
    }

    /// Deinitializes and frees the storage; the value (and every copy) is invalid afterwards.
    func release() {
        cells.deinitialize(count: cellCount)
        UnsafeMutableRawPointer(cells).deallocate()
        rows.release()
        members.release()
        others.release()
    }
}
