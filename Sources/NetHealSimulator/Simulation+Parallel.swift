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
    /// least 500 nodes on a machine with at least 2 CPUs of which at least 1.5 were idle over the last
    /// 100 ms (`idleCPUs`; when other work keeps the second core busy, two threads are slower).
    public static func engineThreads(scenario: Scenario, recordTimeline: Bool = false, requested: Int? = nil) -> Int {
        if requested == 1 || scenario.signer != .fast || recordTimeline || lookahead(scenario) <= 0 { return 1 }
        if let requested { return requested >= 2 ? 2 : 1 }
        guard scenario.fleetSize >= 500, ProcessInfo.processInfo.activeProcessorCount >= 2 else { return 1 }
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

    /// One node-local event on the thread that claimed its chunk (the node-local half of `process`).
    func parEvent(_ s: ParShard, _ i: Int, _ time: Int64, _ event: Event) throws {
        switch event {
        case .tick(_, let e):
            if e == epoch[i], running[i] {
                try parFeed(s, i, .tick, time)
                s.ops.append(.nextTick(epoch: e))
            }
        case .probeDone(_, let e, let outcome):
            if e == epoch[i], running[i] {
                s.ops.append(.probeAnswered(outcome & 0x0F == 1 || outcome >> 4 == 1))
                try parFeed(s, i, .probeRound(probeRoundResult(outcome)), time)
            }
        case .deliver(_, let datagram, let tag):
            try parReceive(s, i, datagram, tag, time)
        default:
            throw SimulationCrash(description: "parallel engine: a non-local event in a window")
        }
        s.opEnds.append(s.ops.count)
        s.idleAfter.append(trackIdle[i] ? (nodes[i].pacingState?.inProgress == nil ? 1 : 2) : 0)
    }

    /// `feed` for the node's chunk: the policy runs, its effects are recorded or done node-locally.
    func parFeed(_ s: ParShard, _ i: Int, _ input: CoreInput, _ now: Int64) throws {
        let effects = nodes[i].handle(input, now: Instant(nanoseconds: now &+ monoOffset[i]))
        for effect in effects {
            switch effect {
            case .gossip(let content, let to, let relay):
                let sent = try makeDatagram(i, content, relay: relay, now: now)
                s.ops.append(.gossip(count: to.count, targets: to, sent: sent))
            case .runProbeRound:
                s.ops.append(.probe)
            case .cycleInterface(let order):
                trackIdle[i] = true
                s.ops.append(.heal(order, dryRun: false, idle: nodes[i].pacingState?.inProgress == nil))
            case .wouldHeal(let order):
                trackIdle[i] = true
                s.ops.append(.heal(order, dryRun: true, idle: nodes[i].pacingState?.inProgress == nil))
            case .persist(let pacing):
                s.ops.append(.persist(pacing))
            case .decisionChanged(let record):
                s.ops.append(.decision(record))
            }
        }
    }

    /// `receive` for the receiver's chunk.
    func parReceive(_ s: ParShard, _ i: Int, _ sent: SentDatagram, _ tag: UInt8, _ now: Int64) throws {
        guard running[i], ifaceRx(i) else { return }
        if tag != Tag.normal { s.injectedDelivered += 1 }
        guard let parsed = sent.parsed else {
            s.ops.append(.reject(sent.error!))
            return
        }
        let old = sent.knownValid
        var known = old
        let local = Instant(nanoseconds: now &+ monoOffset[i])
        let outcome = decoder.acceptedViews(parsed, watermarks: &watermarks[i], knownValid: &known, receiver: MemberIndex(i)) {
            summary in
            self.nodes[i].judgeRelayedInPlace(
                origin: summary.origin, upstream: summary.upstream, decision: summary.decision,
                reachOfMe: summary.reachOfReceiver, now: local)
        }
        sent.learnValid(known, had: old)
        switch outcome {
        case .failure(let error):
            s.ops.append(.reject(error))
        case .success(let accepted):
            s.delivered += 1
            var counts = (injected: 0, afterRestart: 0)
            recordAccepted(receiver: i, sent, accepted, tag: tag, counts: &counts) { s.ops.append(.violation($0, $1)) }
            s.injectedAccepted += counts.injected
            s.acceptedAfterRestart += counts.afterRestart
            remember(i, sent.origin(0).rawValue, sent)
            try parDeliverView(s, i, sent.senderReach, direct: true, local, now)
            try sent.views.withUnsafeBufferPointer { views in
                var rest = accepted.bits & ~1
                while rest != 0 {
                    let k = rest.trailingZeroBitCount
                    rest &= rest - 1
                    try parDeliverView(s, i, views[k].view, direct: false, local, now)
                }
            }
        }
    }

    @inline(__always)
    func parDeliverView(_ s: ParShard, _ i: Int, _ view: ReachabilityView, direct: Bool, _ local: Instant, _ now: Int64) throws {
        if !nodes[i].absorbReceived(view, direct: direct, now: local) {
            try parFeed(s, i, .viewReceived(view, direct: direct), now)
        }
    }

    /// Performs the window's records in queue order, exactly as the serial engine would have.
    func replayWindow() throws {
        replaying = true
        defer { replaying = false }
        var cursor = [Int](repeating: 0, count: shards.count)
        var opAt = [Int](repeating: 0, count: shards.count)
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
            let end = s.opEnds[cursor[t]]
            while opAt[t] < end {
                perform(s.ops[opAt[t]], i)
                opAt[t] += 1
            }
            let idle = s.idleAfter[cursor[t]]
            if idle != 0 { replayIdle[i] = idle == 1 }
            cursor[t] += 1
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
            mix(14, i, UInt64(pacing.history.count))
            persisted[i] = pacing
            persistedOffset[i] = monoOffset[i]
        case .decision(let record):
            mix(15, i, UInt64(record.state.rawValue))
            checkRecord(i, record)
        case .reject(let error):
            reject(i, error)
        case .violation(let kind, let message):
            violate(kind, i, message)
        case .probeAnswered(let answered):
            check.lastProbeAnswered[i] = answered
        case .nextTick(let e):
            queue.pushInOrder(at: now + tick, .tick(i, epoch: e))
        }
    }
}

/// Chooses, stretch by stretch, whether windows run on two threads or serially, by timing both: on a
/// shared machine the second core may be busy, and then the serial path is faster. Either path gives
/// the same results, so the choice changes only speed. A trial alternates the two ways every 256
/// windows, 16 times (so both see the same load and the same phase of the scenario), then runs the
/// faster way for 32,768 windows; two threads must be at least 5 % faster to be chosen.
struct EngineGovernor {
    /// `NETHEAL_SIM_ENGINE_LOG=1`: each timing goes to standard error (for tuning; no effect on results).
    static let verbose = ProcessInfo.processInfo.environment["NETHEAL_SIM_ENGINE_LOG"] == "1"
    static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    /// `NETHEAL_SIM_ENGINE_ADAPTIVE=0`: never time the serial path (every window of enough events on two threads).
    static let enabled = ProcessInfo.processInfo.environment["NETHEAL_SIM_ENGINE_ADAPTIVE"] != "0"
    static let trialWindows = 256
    static let trialRounds = 16
    static let runWindows = 32_768

    /// Windows currently run on two threads.
    private(set) var parallel = true
    private var trial = 0
    private var windowsLeft = trialWindows
    private var events = 0
    private var start = ContinuousClock.now
    /// Nanoseconds and events so far in this trial: [serial, two threads].
    private var spent = [0.0, 0.0]
    private var counted = [0, 0]

    mutating func windowDone(events count: Int) {
        events += count
        windowsLeft -= 1
        guard windowsLeft <= 0 else { return }
        let now = ContinuousClock.now
        if trial < Self.trialRounds {
            let elapsed = now - start
            let k = parallel ? 1 : 0
            spent[k] += Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            counted[k] += events
            trial += 1
        } else {
            trial = 0
        }
        if trial == 0 {
            parallel = !parallel || !Self.enabled
            windowsLeft = Self.trialWindows
        } else if trial < Self.trialRounds {
            parallel = !parallel || !Self.enabled
            windowsLeft = Self.trialWindows
        } else {
            let serialCost = spent[0] / Double(max(1, counted[0]))
            let parallelCost = spent[1] / Double(max(1, counted[1]))
            parallel = parallelCost < 0.95 * serialCost || !Self.enabled
            if Self.verbose {
                Self.log("governor: two threads \(Int(parallelCost)) ns/event, serial \(Int(serialCost)) ns/event")
            }
            spent = [0, 0]
            counted = [0, 0]
            windowsLeft = Self.runWindows
        }
        events = 0
        start = now
    }
}
