import Foundation
import NetHealCore
import NetHealWire

/// What one node-local event did that touches fleet-wide state, recorded by the thread that ran the
/// event and performed later, in queue order, by the replay (`Simulation.replayWindow`). The node is the
/// event's node; the time is the event's time.
enum ParOp {
    /// A gossip effect (`mix(10)`) and, when the interface could send, the datagram for `targets`.
    case gossip(count: Int, targets: [MemberIndex], sent: SentDatagram?)
    /// `runProbeRound` (`mix(11)`, then the probe draws from the probe stream).
    case probe
    /// `cycleInterface` or `wouldHeal`; `idle` is the node's `pacingState.inProgress == nil` right then.
    /// (`indirect`: the rare large payloads are boxed, so the common ops stay a few words.)
    indirect case heal(HealOrder, dryRun: Bool, idle: Bool)
    indirect case persist(PacingState)
    indirect case decision(DecisionRecord)
    case reject(WireError)
    case violation(Violation.Kind, String)
    /// A probe round completed: `check.lastProbeAnswered`.
    case probeAnswered(Bool)
    /// The tick event re-armed itself.
    case nextTick(epoch: UInt32)
}

/// One chunk's record of a window: its ops in event order, where each event's ops end, the node's
/// pacing idleness after each event (0 not tracked, 1 idle, 2 busy), and order-free counters.
///
/// `@unchecked Sendable`: during a window only the thread that claimed the chunk touches it; the main
/// thread reads it after the hand-over (`ParWorker`), whose release/acquire pairs order the accesses.
final class ParShard: @unchecked Sendable {
    var ops: [ParOp] = []
    var opEnds: [Int] = []
    var idleAfter: [UInt8] = []
    var delivered = 0
    var injectedDelivered = 0
    var injectedAccepted = 0
    var acceptedAfterRestart = 0
    var error: (any Error)?

    func reset() {
        ops.removeAll(keepingCapacity: true)
        opEnds.removeAll(keepingCapacity: true)
        idleAfter.removeAll(keepingCapacity: true)
    }
}

/// The window-parallel engine (2 threads), byte-identical to the serial `advance(to:)`.
///
/// Every event creates others at least `lookahead` later (the smallest link latency, probe and tick
/// delay). So the events of a window [T, T + lookahead) cannot create each other, and events of different
/// nodes in it interact only through fleet-wide state: the queue and its sequence numbers, the random
/// streams, the trace hash, the result, the checker's fleet-wide parts. Each window's tick, probe-done
/// and delivery events are cut by node into chunks (`owner`) that two threads claim (`ParWorker`); a
/// chunk runs the node-local part (the policy, decoding against the receiver's watermarks, encoding,
/// signing and parsing the node's datagrams, the receiver's replay memory) and records the rest as
/// `ParOp`s; the main thread then replays the records in queue order, so hash, draws, pushes and
/// checks happen exactly as in the serial engine. Any other event (fault, crash, restart, heal action)
/// ends the window and runs serially; so do windows of fewer than `parallelMinimum` events and the
/// stretches where `EngineGovernor` found the serial path faster.
extension Simulation {
    /// The engine threads a run uses. 1 when asked, with the real signer (its memo is shared and
    /// counted), with a timeline, or without lookahead; 2 when asked, or by default for fleets of at
    /// least `parallelFleetMinimum` nodes on a machine with at least 2 CPUs of which at least 1.5 were
    /// idle over the last 100 ms (`idleCPUs`; when other work keeps the second core busy, two threads
    /// are slower).
    /// The smallest fleet that runs on two threads by default: 5,000 nodes. Measured (docs/performance.md
    /// §4): at 10,000 nodes two threads are ~1.3× faster (~100 events per window); at 1,000 they are
    /// slower (~10 events per window do not pay for the hand-over and the serial replay).
    public static var parallelFleetMinimum: Int { 5_000 }

    public static func engineThreads(scenario: Scenario, recordTimeline: Bool = false, requested: Int? = nil) -> Int {
        if requested == 1 || scenario.signer != .fast || recordTimeline || lookahead(scenario) <= 0 { return 1 }
        if let requested { return requested >= 2 ? 2 : 1 }
        guard scenario.fleetSize >= parallelFleetMinimum, ProcessInfo.processInfo.activeProcessorCount >= 2 else { return 1 }
        return (idleCPUs() ?? 2) >= 1.5 ? 2 : 1
    }

    /// CPUs idle over the next 100 ms (from /proc/stat), nil when unknown.
    static func idleCPUs() -> Double? {
        func sample() -> (idle: Double, total: Double)? {
            guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
                let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
            else { return nil }
            let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard v.count >= 5 else { return nil }
            return (v[3] + v[4], v.prefix(8).reduce(0, +))
        }
        guard let a = sample() else { return nil }
        usleep(100_000)
        guard let b = sample(), b.total > a.total else { return nil }
        return (b.idle - a.idle) / (b.total - a.total) * Double(ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The smallest delay between an event and one it creates, over every link and node-local timer.
    static func lookahead(_ scenario: Scenario) -> Int64 {
        var w = min(1_000_000, actionStartDelay, scenario.effectiveTick.nanosecondsClamped)
        w = min(w, scenario.settings.probeTimeout.nanosecondsClamped, scenario.network.latencyMin.nanosecondsClamped)
        for f in scenario.faults {
            if case .link(_, _, let p) = f.fault { w = min(w, p.latencyMin.nanosecondsClamped) }
        }
        return w
    }

    /// Chunks a window is cut into (either thread runs any chunk; more chunks than threads balance the
    /// load): 8 below 5,000 nodes (a window holds ~10 events at 1,000 nodes), else 4 (~100 events; each
    /// chunk has its own table of the checker's replay memory). 1 with one thread.
    static func chunkCount(nodes: Int, threads: Int) -> Int { threads < 2 ? 1 : nodes < 5000 ? 8 : 4 }

    /// The chunk of node `i`: its node-local events of a window run together on one thread, and its rows
    /// of the checker's replay memory are in that chunk's table.
    @inline(__always)
    func owner(_ i: Int) -> Int { i & (chunkCount - 1) }

    /// Node `m` has no heal in progress (as of the replay point while a window is replayed).
    @inline(__always)
    func pacingIdle(_ m: Int) -> Bool {
        replaying ? replayIdle[m] : nodes[m].pacingState?.inProgress == nil
    }

    /// The node of a node-local event, nil for any other.
    @inline(__always)
    func localNode(_ event: Event) -> Int? {
        switch event {
        case .tick(let i, _), .probeDone(let i, _, _), .deliver(let i, _, _): i
        default: nil
        }
    }

    /// `advance(to:)` with the window-parallel engine.
    func advanceParallel(to end: Int64) throws {
        let worker = ParWorker(chunks: chunkCount) { [unowned self] c in self.runShard(c) }
        worker.start()
        defer {
            worker.stop()
            if EngineGovernor.verbose {
                EngineGovernor.log("engine: \(worker.windows) windows on two threads, \(worker.chunksOnWorker) of their"
                    + " \(worker.windows * worker.chunks) chunks ran on the worker")
            }
        }
        while let first = queue.peekTime, first <= end {
            let limit = first &+ lookahead
            window.removeAll(keepingCapacity: true)
            var special: (time: Int64, event: Event)?
            while let t = queue.peekTime, t < limit, t <= end, let entry = queue.pop() {
                result.events += 1
                if localNode(entry.payload) != nil {
                    window.append((entry.time, entry.payload))
                } else {
                    special = (entry.time, entry.payload)
                    break
                }
            }
            let events = window.count + (special == nil ? 0 : 1)
            if window.count >= parallelMinimum && (!adaptive || governor.parallel) {
                try runWindow(worker)
            } else {
                // No event of the window lands in it: the popped events run as the serial engine runs them.
                for (t, e) in window {
                    now = t
                    try process(e)
                    checkLiveness()
                }
            }
            if let special {
                now = special.time
                try process(special.event)
                checkLiveness()
            }
            governor.windowDone(events: events)
            if adaptive { worker.park(!governor.parallel) }
        }
        now = max(now, end)
        checkLiveness()
    }

    /// Runs the collected window's chunks on both threads, then replays its records.
    func runWindow(_ worker: ParWorker) throws {
        // Nodes whose idleness the replay may read (pruneHealing, eligible): their value now, and tracked.
        for m in check.healing where running[m] {
            replayIdle[m] = nodes[m].pacingState?.inProgress == nil
            trackIdle[m] = true
        }
        for o in check.obligations {
            replayIdle[o.node] = nodes[o.node].pacingState?.inProgress == nil
            trackIdle[o.node] = true
        }
        parallelWindows += 1
        worker.run()
        for s in shards { if let e = s.error { throw e } }
        try replayWindow()
    }

    /// Chunk `t` of the window: the node-local events of its nodes, in queue order.
    func runShard(_ t: Int) {
        let s = shards[t]
        s.reset()
        do {
            try window.withUnsafeBufferPointer { w in
                for entry in w {
                    guard let i = localNode(entry.event), owner(i) == t else { continue }
                    try parEvent(s, i, entry.time, entry.event)
                }
            }
        } catch {
            s.error = error
        }
    }

    /// Performs the window's records in queue order, exactly as the serial engine would have.
    func replayWindow() throws {
        replaying = true
        defer { replaying = false }
        let chunks = shards.count
        if replayCursors.count != 2 * chunks { replayCursors = Array(repeating: 0, count: 2 * chunks) }
        for k in 0..<(2 * chunks) { replayCursors[k] = 0 }
        for (time, event) in window {
            now = time
            let i: Int
            switch event {
            case .tick(let node, _):
                i = node
                mix(1, i)
            case .probeDone(let node, _, let outcome):
                i = node
                mix(2, i, UInt64(outcome))
            case .deliver(let node, let datagram, let tag):
                i = node
                mix(3, i, UInt64(datagram.bytes.count) << 8 | UInt64(tag))
            default:
                throw SimulationCrash(description: "parallel engine: a non-local event in a window")
            }
            let t = owner(i)
            let s = shards[t]
            let k = replayCursors[t]
            let end = s.opEnds[k]
            var op = replayCursors[chunks + t]
            while op < end {
                perform(s.ops[op], i)
                op += 1
            }
            replayCursors[chunks + t] = op
            let idle = s.idleAfter[k]
            if idle != 0 { replayIdle[i] = idle == 1 }
            replayCursors[t] = k + 1
            checkLiveness()
        }
        for s in shards {
            result.datagramsDelivered += s.delivered
            result.injectedDelivered += s.injectedDelivered
            result.injectedAccepted += s.injectedAccepted
            result.acceptedAfterRestart += s.acceptedAfterRestart
            s.delivered = 0
            s.injectedDelivered = 0
            s.injectedAccepted = 0
            s.acceptedAfterRestart = 0
        }
    }

    /// One recorded op of node `i`, at `now` (the fleet-wide half of `perform` and `receive`).
    func perform(_ op: ParOp, _ i: Int) {
        switch op {
        case .gossip(let count, let targets, let sent):
            mix(10, i, UInt64(count))
            if let sent { for t in targets { transmit(from: i, to: t.int, sent, tag: Tag.normal) } }
        case .probe:
            mix(11, i)
            startProbe(i)
        case .heal(let order, let dryRun, let idle):
            replayIdle[i] = idle
            if dryRun {
                mix(13, i)
                healOrdered(i, order, dryRun: true)
            } else {
                mix(12, i, UInt64(order.step))
                cycleOrdered(i, order)
            }
        case .persist(let pacing):
            persistPacing(i, pacing)
        case .decision(let record):
            decisionChanged(i, record)
        case .reject(let error):
            reject(i, error)
        case .violation(let kind, let message):
            violate(kind, i, message)
        case .probeAnswered(let answered):
            check.lastProbeAnswered[i] = answered
        case .nextTick(let e):
            queue.pushInOrder(at: now + tick, .tick(i, epoch: e), hint: PrefetchHint.node(i))
        }
    }
}
