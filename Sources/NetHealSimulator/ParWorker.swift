import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The second thread of the window-parallel engine and the hand-over of a window's chunks.
///
/// A window is cut into `chunks` parts (`Simulation.owner`); the caller and the worker thread claim
/// chunks one at a time from an atomic counter until none is left, so a slow or descheduled worker
/// only means the caller runs more chunks (never a wait for a thread that is not running). The
/// worker sleeps between windows with a spin-then-yield-then-nap loop: a lock and a condition
/// variable per window would cost more than a window's work (microseconds).
///
/// `@unchecked Sendable`: `work` is called with a chunk index by whichever thread claimed the chunk;
/// a chunk is claimed by exactly one thread per window, and the claim (acquiring) and `finished`
/// (releasing; the caller acquires it) order every access to a chunk's state across the threads.
/// `generation` and `running` are touched only by the caller's thread.
final class ParWorker: @unchecked Sendable {
    let chunks: Int
    private let go = Atomic<Int>(0)
    private let claimed = Atomic<Int>(Int.max / 2)
    private let finished = Atomic<Int>(0)
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
        finished.store(0, ordering: .relaxed)
        claimed.store(0, ordering: .releasing)
        go.store(generation, ordering: .releasing)
        claimChunks()
        Self.wait(spinsBeforeYield: 20_000) { finished.load(ordering: .acquiring) == chunks }
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

    /// Claims and runs chunks until none is left; returns how many it ran.
    @discardableResult
    private func claimChunks() -> Int {
        var ran = 0
        while true {
            let c = claimed.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
            guard c < chunks else { return ran }
            work(c)
            ran += 1
            finished.wrappingAdd(1, ordering: .releasing)
        }
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
                workerChunks.wrappingAdd(claimChunks(), ordering: .relaxed)
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
