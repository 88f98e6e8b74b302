import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The second thread of the window-parallel engine and the hand-over of a window's chunks.
///
/// A window is cut into `chunks` parts (`Simulation.owner`). Each thread owns half of them (the caller
/// the even ones, the worker the odd ones) and runs its own first, so that a node's state stays in the
/// cache of the core that last ran it; then it takes the other thread's chunks that are still
/// unclaimed, from the far end. A claim is a compare-and-swap of the chunk's own word from the previous
/// window's number to this one's, so every chunk runs exactly once, and a slow or descheduled worker
/// only means the caller runs more chunks (never a wait for a thread that is not running). The words
/// sit on separate cache lines: a thread claiming its own chunks touches no line the other one uses.
/// The worker sleeps between windows with a spin-then-yield-then-nap loop: a lock and a condition
/// variable per window would cost more than a window's work (microseconds).
///
/// `@unchecked Sendable`: `work` is called with a chunk index by whichever thread claimed the chunk;
/// a chunk is claimed by exactly one thread per window, and the claim (acquiring) and the chunk's done
/// word (releasing; the caller acquires it) order every access to a chunk's state across the threads.
/// `generation` and `running` are touched only by the caller's thread.
final class ParWorker: @unchecked Sendable {
    let chunks: Int
    private let go = Atomic<Int>(0)
    /// Per chunk, at `wordStride` apart: the last window that claimed it, then (next word) the last
    /// window in which it finished.
    private let words: UnsafeMutablePointer<Atomic<Int>>
    private static var wordStride: Int { 16 }
    /// The order in which each thread tries the chunks (`claimOrder`).
    private let callerOrder: [Int]
    private let workerOrder: [Int]
    private let exited = Atomic<Bool>(false)
    private let parked = Atomic<Bool>(false)
    /// Chunks the worker thread ran (read after `stop`, for the engine log).
    private let workerChunks = Atomic<Int>(0)
    var chunksOnWorker: Int { workerChunks.load(ordering: .relaxed) }
    /// Windows handed over (`run` calls).
    var windows: Int { generation }
    private var generation = 0
    private var running = false
    private let work: (Int) -> Void

    /// `work(c)` runs chunk `c` of the current window; it must not throw (errors go in its results).
    init(chunks: Int, work: @escaping (Int) -> Void) {
        self.chunks = chunks
        self.work = work
        callerOrder = Self.claimOrder(chunks: chunks, parity: 0)
        workerOrder = Self.claimOrder(chunks: chunks, parity: 1)
        words = .allocate(capacity: chunks * Self.wordStride)
        for k in 0..<(chunks * Self.wordStride) { (words + k).initialize(to: Atomic<Int>(0)) }
    }

    deinit {
        words.deinitialize(count: chunks * Self.wordStride)
        words.deallocate()
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.stackSize = 16 << 20
        thread.name = "netheal-sim-worker"
        running = true
        thread.start()
    }

    /// Runs every chunk of the window just published (on this thread and the worker); returns when all are done.
    func run() {
        generation += 1
        let g = generation
        go.store(g, ordering: .releasing)
        claimChunks(window: g, order: callerOrder)
        Self.wait(spinsBeforeYield: 20_000) {
            var c = 0
            while c < chunks {
                if words[c * Self.wordStride + 8].load(ordering: .acquiring) != g { return false }
                c += 1
            }
            return true
        }
    }

    /// While parked (the caller runs windows serially for a while) the worker naps instead of spinning,
    /// so that it takes no CPU from the caller or the machine's other work.
    func park(_ on: Bool) {
        if parked.load(ordering: .relaxed) != on { parked.store(on, ordering: .relaxed) }
    }

    /// Ends the worker thread and waits for it (idempotent).
    func stop() {
        guard running else { return }
        running = false
        go.store(-1, ordering: .releasing)
        Self.wait(spinsBeforeYield: 1_000) { exited.load(ordering: .acquiring) }
    }

    /// Runs the chunks of window `g` this thread can still claim, in `order`; returns how many it ran.
    @discardableResult
    private func claimChunks(window g: Int, order: [Int]) -> Int {
        var ran = 0
        for c in order where words[c * Self.wordStride].compareExchange(expected: g - 1, desired: g, ordering: .acquiring).exchanged {
            work(c)
            ran += 1
            words[c * Self.wordStride + 8].store(g, ordering: .releasing)
        }
        return ran
    }

    /// The order in which the thread owning the chunks of parity `parity` tries them: its own ascending,
    /// then the other thread's descending.
    static func claimOrder(chunks: Int, parity: Int) -> [Int] {
        let own = Array(stride(from: parity, to: chunks, by: 2))
        let other = Array(stride(from: 1 - parity, to: chunks, by: 2).reversed())
        return own + other
    }

    private func loop() {
        var seen = 0
        var spins = 0
        while true {
            let g = go.load(ordering: .acquiring)
            if g < 0 { break }
            if g != seen {
                seen = g
                spins = 0
                workerChunks.wrappingAdd(claimChunks(window: g, order: workerOrder), ordering: .relaxed)
                continue
            }
            // Windows follow each other within microseconds while the engine runs two threads: spin
            // through the gaps (the caller's pop and replay); nap when parked or after a long gap.
            spins += 1
            if parked.load(ordering: .relaxed) {
                usleep(1_000)
            } else if spins > 200_000 {
                if spins > 210_000 { usleep(50) } else { sched_yield() }
            }
        }
        exited.store(true, ordering: .releasing)
    }

    /// Spins, then yields the CPU, then naps (a long serial stretch of the other thread must not burn a
    /// core forever).
    @inline(__always)
    static func wait(spinsBeforeYield: Int, _ ready: () -> Bool) {
        var spins = 0
        while !ready() {
            spins += 1
            if spins > spinsBeforeYield {
                if spins > spinsBeforeYield + 2_000 { usleep(50) } else { sched_yield() }
            }
        }
    }
}
