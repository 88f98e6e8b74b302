import NetHealCore
import NetHealSodium
import NetHealWire

/// Datagram tags: how a delivered datagram came to be.
enum Tag {
    static let normal: UInt8 = 0
    static let replay: UInt8 = 1
    static let forged: UInt8 = 2
}

/// An internal error of the simulator (exit 3): a bug in the simulator or a layer it drives.
public struct SimulationCrash: Error, CustomStringConvertible {
    public var description: String
}

/// One deterministic run of a scenario: N policies (normally the real `NodeCore`) in one process, a
/// virtual clock in integer nanoseconds, a simulated network carrying real encoded, signed datagrams
/// through each node's own total decoder, and the invariant checker after every event.
///
/// Every random choice comes from one `SplitMix64` seeded with `scenario.seed`; sub-streams
/// (network, probes, faults, per-node seeds, keys) are split from it in a fixed order.
public final class Simulation<P: SimPolicy> {
    enum Event {
        case tick(Int, epoch: UInt32)
        case probeDone(Int, epoch: UInt32, outcome: UInt8)
        case deliver(to: Int, datagram: SentDatagram, tag: UInt8)
        case healDown(Int)
        case healUp(Int, epoch: UInt32)
        case fault(Int)
        case crash(Int, restartAfter: Int64)
        case restart(Int)
    }


    let scenario: Scenario
    let settings: HealSettings
    let n: Int
    let roster: ClusterRoster
    /// Who watches whom (one graph for the whole fleet; every node's core gets its row).
    let graph: NeighborGraph
    let encoder: DatagramEncoder
    let decoder: DatagramDecoder
    let verifier: CachingVerifier?
    /// The verifying thread (`VerifyAhead.swift`), nil without one (`Simulation.verifierThread`).
    let verifying: VerifyAheadWorker?
    let signers: [any ViewSigner]
    let forger: any ViewSigner
    let configDigest: UInt64
    let tick: Int64
    /// `settings.probeTimeout` in nanoseconds (a probe round that gets no answer takes this long).
    let probeTimeoutNanos: Int64
    let recordTimeline: Bool
    /// The default network's latency bounds, and in nanoseconds.
    let defaultLatency: (min: Duration, mean: Duration, ns: (Int64, Int64))
    /// `Self.probeResults`, indexed by outcome.
    let probeTable = Simulation.probeResults

    // `@exclusivity(unchecked)` on all mutable state: the serial engine never overlaps accesses to it, so
    // the runtime exclusivity checks of a class's stored properties are skipped. The per-node state the
    // parallel engine writes from two threads (`Simulation+Parallel.swift`) is in `FixedArray`s, never
    // copied; within a window each node's elements are written only by the thread that claimed its chunk.
    /// Each node's policy; valid only while `running[i]` (a crashed node's last value stays until its
    /// restart replaces it, and nothing reads it meanwhile). Not optional: unwrapping copied the value.
    @exclusivity(unchecked) var nodes: FixedArray<P>
    /// The node's agent is up (not crashed).
    @exclusivity(unchecked) var running: [Bool]
    @exclusivity(unchecked) var watermarks: FixedArray<ViewWatermarks>
    @exclusivity(unchecked) var incarnation: [UInt64]
    @exclusivity(unchecked) var sequence: FixedArray<UInt64>
    @exclusivity(unchecked) var epoch: [UInt32]
    @exclusivity(unchecked) var monoOffset: [Int64]
    @exclusivity(unchecked) var skewMillis: [Int64]
    @exclusivity(unchecked) var persisted: [PacingState?]
    @exclusivity(unchecked) var persistedOffset: [Int64]
    /// Neighbourhood mode: per (receiver, neighbour), the decoder's watermark, the checker's replay
    /// memory and the neighbour's latest first-hand signed view, in one cache line (`NeighbourCells`).
    /// Empty in a full mesh.
    let cells: NeighbourCells
    /// Full mesh: per node, the latest first-hand signed views received (small ring, searched by origin
    /// for relays). Flat, `recentCapacity` slots per node: the sender's signed view (boxed,
    /// `SentDatagram.kept`), its origin. Empty in neighbourhood mode (`cells`). Only the view is kept,
    /// not its datagram: the datagram (bytes, parse, relayed views) is freed after its last delivery,
    /// which keeps the fleet's live memory (and a delivery's cache misses) small.
    @exclusivity(unchecked) var keptViews: FixedArray<KeptView?>
    @exclusivity(unchecked) var recentOrigins: FixedArray<UInt16>
    @exclusivity(unchecked) var recentCount: FixedArray<Int>
    @exclusivity(unchecked) var recentCursor: FixedArray<Int>
    /// Per sender: its last `capturedCapacity` datagrams as sent (for replay injection), a ring of
    /// `capturedCapacity` slots per sender; `capturedPool` gives them oldest first.
    /// Per sender: its datagrams are captured. Every sender in a full mesh (small fleets: the captures
    /// are there to inspect); in neighbourhood mode only the senders a replay fault replays (nothing else
    /// reads them, and keeping every datagram of thousands of senders costs time).
    let capturesSent: [Bool]
    @exclusivity(unchecked) var capturedRing: FixedArray<[UInt8]>
    @exclusivity(unchecked) var capturedCount: FixedArray<Int>
    @exclusivity(unchecked) var capturedNext: FixedArray<Int>
    @exclusivity(unchecked) var crashArmed: [Int64?]

    // Ground truth.
    @exclusivity(unchecked) var wedge: [UInt8]  // bit 0 tx dead, bit 1 rx dead, bit 2 hard
    @exclusivity(unchecked) var wedgeSince: [Int64?]
    @exclusivity(unchecked) var healDown: [Bool]
    @exclusivity(unchecked) var flapDown: [Bool]
    @exclusivity(unchecked) var upstreamDown: [Int]
    @exclusivity(unchecked) var upstreamFlap: [Bool]
    @exclusivity(unchecked) var cuts: [Cut] = []
    @exclusivity(unchecked) var linkRules: [LinkRule] = []
    @exclusivity(unchecked) var lastCutTouch: [Int64]
    @exclusivity(unchecked) var lastDisturbed: [Int64]
    @exclusivity(unchecked) var ifaceFineSince: [Int64]
    @exclusivity(unchecked) var ifaceBrokenSince: [Int64]
    @exclusivity(unchecked) var truthFineSince: [Int64]

    @exclusivity(unchecked) var queue = EventQueue<Event>()
    @exclusivity(unchecked) var now: Int64 = 0
    /// Look ahead in the queue and prefetch (`Simulation+Prefetch.swift`); default
    /// `Simulation.prefetchEnabled` (on) with the serial engine, off with two threads. Changes no result
    /// (tests run both ways).
    @exclusivity(unchecked) var prefetching: Bool
    /// The lane's tick last prefetched (its sequence number) and how far (1 core, 2 peer states too).
    @exclusivity(unchecked) var laneTickSeen: UInt64 = .max
    @exclusivity(unchecked) var laneTickStage = 0
    /// Per node: the position in its neighbour row after the last view it relayed (where the core's
    /// round-robin relay choice usually goes on next time; -1 unknown). A prefetch hint only.
    @exclusivity(unchecked) var relayNext: FixedArray<Int32>
    @exclusivity(unchecked) var netRng: SplitMix64
    @exclusivity(unchecked) var probeRng: SplitMix64
    @exclusivity(unchecked) var faultRng: SplitMix64
    @exclusivity(unchecked) var restartRng: SplitMix64
    @exclusivity(unchecked) var actions: [FaultAction] = []

    @exclusivity(unchecked) var check: CheckerState
    @exclusivity(unchecked) var result: SimulationResult
    @exclusivity(unchecked) var rejectedCounts: [String: Int] = [:]
    @exclusivity(unchecked) var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    @exclusivity(unchecked) var lastState: [DecisionState]

    /// Engine threads: 1 serial, 2 window-parallel (`Simulation+Parallel.swift`).
    public let threads: Int
    /// The parallel engine's window (ns): no event creates another less than this far ahead.
    let lookahead: Int64
    /// Chunks of a window (a power of two; 1 with one thread): node `i` is in chunk `owner(i)`.
    let chunkCount: Int
    /// Per chunk of the parallel engine's window: its recorded effects (index = `owner(i)`).
    let shards: [ParShard]
    /// Node `i`'s `pacingState.inProgress == nil` is recorded after each of its events (parallel engine).
    @exclusivity(unchecked) var trackIdle: FixedArray<Bool>
    /// While replaying a window: node `i`'s `pacingState.inProgress == nil` as of the replay point.
    @exclusivity(unchecked) var replayIdle: [Bool]
    @exclusivity(unchecked) var replaying = false
    /// Windows with fewer events run serially (the handshake would cost more than it saves); tests set 1.
    @exclusivity(unchecked) var parallelMinimum = 4
    /// Time both engines now and then and use the faster (`EngineGovernor`); tests turn it off.
    @exclusivity(unchecked) var adaptive = true
    @exclusivity(unchecked) var governor = EngineGovernor()
    /// Windows the parallel engine ran on both threads (tests check the parallel path ran).
    @exclusivity(unchecked) var parallelWindows = 0
    /// The replay's position per chunk: its next event (first half) and next op (second half); reused
    /// by every window.
    @exclusivity(unchecked) var replayCursors: [Int] = []
    /// The parallel engine's window: its events in queue order.
    @exclusivity(unchecked) var window: [(time: Int64, event: Event)] = []

    deinit {
        nodes.release()
        watermarks.release()
        sequence.release()
        keptViews.release()
        recentOrigins.release()
        recentCount.release()
        recentCursor.release()
        capturedRing.release()
        capturedCount.release()
        capturedNext.release()
        trackIdle.release()
        relayNext.release()
        check.lastAccepted.release()
        cells.release()
    }

    /// Builds the fleet. `recordTimeline` keeps every state change (for `--report`).
    /// `threads` is 1 (the serial engine) or 2 (the window-parallel engine, same results); nil chooses
    /// (`Simulation.engineThreads`).
    public init(scenario: Scenario, recordTimeline: Bool = false, threads: Int? = nil) throws {
        self.scenario = scenario
        let threadCount = Self.engineThreads(scenario: scenario, recordTimeline: recordTimeline, requested: threads)
        self.threads = threadCount
        lookahead = Self.lookahead(scenario)
        settings = scenario.settings
        n = scenario.fleetSize
        tick = scenario.effectiveTick.nanosecondsClamped
        probeTimeoutNanos = scenario.settings.probeTimeout.nanosecondsClamped
        self.recordTimeline = recordTimeline
        // The window engine replays the fleet-wide part serially: hints (a search per datagram sent)
        // would only slow that part, and its windows are not looked ahead into.
        prefetching = Self.prefetchEnabled && threadCount == 1
        defaultLatency = (
            scenario.network.latencyMin, scenario.network.latencyMean,
            (scenario.network.latencyMin.nanosecondsClamped, scenario.network.latencyMean.nanosecondsClamped)
        )
        var master = SplitMix64(seed: scenario.seed)
        netRng = master.split()
        probeRng = master.split()
        faultRng = master.split()
        restartRng = master.split()
        var keyRng = master.split()
        var nodeRng = master.split()
        configDigest = master.next()
        var signers: [any ViewSigner] = []
        signers.reserveCapacity(n)
        func seedBytes(_ rng: inout SplitMix64) -> [UInt8] {
            var out: [UInt8] = []
            for _ in 0..<4 {
                let w = rng.next()
                for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
            }
            return out
        }
        for _ in 0..<n {
            switch scenario.signer {
            case .ed25519: signers.append(try Ed25519Signer(seed: seedBytes(&keyRng)))
            case .fast: signers.append(FastStandInSigner(seed: keyRng.next()))
            }
        }
        switch scenario.signer {
        case .ed25519: forger = try Ed25519Signer(seed: seedBytes(&keyRng))
        case .fast: forger = FastStandInSigner(seed: keyRng.next())
        }
        self.signers = signers
        var domainOf = [String?](repeating: nil, count: n)
        for domain in scenario.domains {
            for m in domain.members where m < n && domainOf[m] == nil { domainOf[m] = domain.name }
        }
        roster = ClusterRoster(
            clusterID: "sim-\(scenario.seed % 1_000_000)",
            members: (0..<n).map {
                .init(name: Scenario.nodeName($0), publicKey: signers[$0].publicKey, failureDomain: domainOf[$0])
            })
        graph = NeighborGraph(roster: roster, size: scenario.settings.neighborhoodSize)
        encoder = DatagramEncoder(roster: roster)
        switch scenario.signer {
        case .ed25519:
            let memo = CachingVerifier(Ed25519Verifier())
            verifier = memo
            decoder = DatagramDecoder(roster: roster, verifier: memo)
            verifying =
                Self.verifierThread(scenario: scenario, requested: threads)
                ? VerifyAheadWorker(verifier: VerifyAheadTesting.verifier ?? memo.inner) : nil
        case .fast:
            // The stand-in is cheaper than a memo lookup: no memo.
            verifier = nil
            verifying = nil
            decoder = DatagramDecoder(roster: roster, verifier: FastStandInVerifier())
        }
        var nodes: [P] = []
        nodes.reserveCapacity(n)
        running = Array(repeating: true, count: n)
        monoOffset = []
        for i in 0..<n {
            nodes.append(P(
                roster: roster, me: MemberIndex(i), settings: scenario.settings, pacing: nil, seed: nodeRng.next(),
                graph: graph))
            // Each node's monotonic clock has its own origin (0 … ~11 days): instants never cross nodes.
            monoOffset.append(Int64(nodeRng.next() % 1_000_000_000_000_000))
        }
        self.nodes = FixedArray(nodes)
        nodes = []
        let size = n
        let cellTable = NeighbourCells(graph: graph, count: n)
        cells = cellTable
        watermarks = FixedArray((0..<size).map { [graph] i in
            var w = graph.isFullMesh ? ViewWatermarks(memberCount: size) : ViewWatermarks(neighbors: graph.neighbors(of: MemberIndex(i)), slots: cellTable.watermarkSlots(i))
            w.pin(MemberIndex(i))
            return w
        })
        incarnation = Array(repeating: 1, count: n)
        sequence = FixedArray(repeating: 0, count: n)
        epoch = Array(repeating: 0, count: n)
        skewMillis = Array(repeating: 0, count: n)
        persisted = Array(repeating: nil, count: n)
        persistedOffset = monoOffset
        let ringNodes = graph.isFullMesh ? n : 0
        keptViews = FixedArray(repeating: nil, count: ringNodes * Self.recentCapacity)
        recentOrigins = FixedArray(repeating: 0, count: ringNodes * Self.recentCapacity)
        recentCount = FixedArray(repeating: 0, count: ringNodes)
        recentCursor = FixedArray(repeating: 0, count: ringNodes)
        var captures = [Bool](repeating: graph.isFullMesh, count: n)
        for f in scenario.faults {
            if case .replay(let from, _, _, _) = f.fault { for m in from.members where m < n { captures[m] = true } }
        }
        capturesSent = captures
        capturedRing = FixedArray(repeating: [], count: n * Self.capturedCapacity)
        capturedCount = FixedArray(repeating: 0, count: n)
        capturedNext = FixedArray(repeating: 0, count: n)
        crashArmed = Array(repeating: nil, count: n)
        wedge = Array(repeating: 0, count: n)
        wedgeSince = Array(repeating: nil, count: n)
        healDown = Array(repeating: false, count: n)
        flapDown = Array(repeating: false, count: n)
        upstreamDown = Array(repeating: 0, count: n)
        upstreamFlap = Array(repeating: false, count: n)
        lastCutTouch = Array(repeating: Int64.min / 2, count: n)
        // The start is not a disturbance: a fleet that has run for a while is the interesting case.
        lastDisturbed = Array(repeating: Int64.min / 2, count: n)
        ifaceBrokenSince = Array(repeating: 0, count: n)
        ifaceFineSince = Array(repeating: 0, count: n)
        truthFineSince = Array(repeating: 0, count: n)
        chunkCount = Self.chunkCount(nodes: n, threads: threadCount)
        check = CheckerState(n: n, settings: settings)
        trackIdle = FixedArray(repeating: false, count: n)
        relayNext = FixedArray(repeating: -1, count: n)
        replayIdle = Array(repeating: true, count: n)
        shards = (0..<chunkCount).map { _ in ParShard() }
        lastState = Array(repeating: .starting, count: n)
        result = SimulationResult(
            scenario: scenario.name, source: scenario.source, seed: scenario.seed, policy: P.policyName,
            signer: scenario.signer, fleetSize: n, simulatedNanos: scenario.duration.nanosecondsClamped)
        for i in 0..<n {
            // Spread the ticks over one interval so nodes are not in lockstep.
            queue.pushInOrder(at: tick * Int64(i) / Int64(max(1, n)), .tick(i, epoch: 0), hint: PrefetchHint.node(i))
        }
        scheduleFaults()
    }

    /// Runs to the scenario's end, checking invariants after every event, then the expectations.
    public func run() throws -> SimulationResult {
        verifying?.start()
        defer { verifying?.stop() }
        do {
            if threads > 1 {
                try advanceParallel(to: scenario.duration.nanosecondsClamped)
            } else {
                try advance(to: scenario.duration.nanosecondsClamped)
            }
        } catch {
            // A crash after an answer taken ahead of its check: first make sure that answer was right.
            try confirmVerifiedAhead()
            throw error
        }
        try confirmVerifiedAhead()
        finish()
        return result
    }

    /// Processes every event up to and including `end` (ns), then sets the clock to `end`.
    func advance(to end: Int64) throws {
        while let next = queue.peekTime, next <= end {
            guard let entry = queue.pop() else { break }
            prefetchAhead()
            now = entry.time
            result.events += 1
            try process(entry.payload)
            checkLiveness()
        }
        now = max(now, end)
        checkLiveness()
    }

    func process(_ event: Event) throws {
        switch event {
        case .tick(let i, let e):
            mix(1, i)
            guard e == epoch[i], running[i] else { return }
            try feed(i, .tick)
            queue.pushInOrder(at: now + tick, .tick(i, epoch: e), hint: PrefetchHint.node(i))
        case .probeDone(let i, let e, let outcome):
            mix(2, i, UInt64(outcome))
            guard e == epoch[i], running[i] else { return }
            check.lastProbeAnswered[i] = outcome & 0x0F == 1 || outcome >> 4 == 1
            try feed(i, .probeRound(probeRoundResult(outcome)))
        case .deliver(let to, let datagram, let tag):
            mix(3, to, UInt64(datagram.bytes.count) << 8 | UInt64(tag))
            try receive(to, datagram, tag: tag)
        case .healDown(let i):
            mix(4, i)
            healDown[i] = true
            truthChanged(i)
        case .healUp(let i, let e):
            mix(5, i)
            healDown[i] = false
            if wedge[i] != 0, wedge[i] & 4 == 0 { wedge[i] = 0 }
            truthChanged(i)
            onHealRepaired(i)
            if e == epoch[i], running[i] { try feed(i, .healFinished(.completed)) }
        case .fault(let k):
            mix(6, k)
            try apply(actions[k])
        case .crash(let i, let after):
            mix(7, i)
            crash(i, restartAfter: after)
        case .restart(let i):
            mix(8, i)
            try restart(i)
        }
    }

    /// Node `i`'s policy while its agent runs, nil while it is crashed.
    func node(_ i: Int) -> P? { running[i] ? nodes[i] : nil }

    /// Feed one input to node `i` and perform its effects.
    func feed(_ i: Int, _ input: CoreInput) throws {
        let effects = nodes[i].handle(input, now: Instant(nanoseconds: now &+ monoOffset[i]))
        if recordTimeline, case let state = nodes[i].announcedState, state != lastState[i] {
            lastState[i] = state
            result.stateChanges.append(StateChange(at: now, node: Int32(i), state: state))
        }
        try perform(i, effects)
    }

    @inline(__always)
    func mix(_ kind: UInt64, _ node: Int, _ extra: UInt64 = 0) {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        hash = (hash ^ UInt64(bitPattern: now)) &* prime
        hash = (hash ^ kind) &* prime
        hash = (hash ^ UInt64(node)) &* prime
        hash = (hash ^ extra) &* prime
    }

    /// `probeResult(outcome)` for every outcome a probe round produces (each target's code 0…2), built
    /// once: a round's result is then shared, not rebuilt per node and round.
    static var probeResults: [ProbeRoundResult] {
        (0..<3 * 16).map { probeResult(UInt8($0 >> 4) << 4 | UInt8($0 & 0x0F)) }
    }

    /// The shared result of a probe round with `outcome` (low nibble gateway, high nibble anchor).
    @inline(__always)
    func probeRoundResult(_ outcome: UInt8) -> ProbeRoundResult {
        outcome & 0x0F < 3 && outcome >> 4 < 3 ? probeTable[Int(outcome >> 4) << 4 | Int(outcome & 0x0F)] : Self.probeResult(outcome)
    }

    static func probeResult(_ outcome: UInt8) -> ProbeRoundResult {
        func one(_ code: UInt8, _ name: String) -> ProbeTargetResult {
            switch code {
            case 1: ProbeTargetResult(target: name, outcome: .answered)
            case 2: ProbeTargetResult(target: name, outcome: .sendError("ENETUNREACH"))
            default: ProbeTargetResult(target: name, outcome: .timedOut)
            }
        }
        return ProbeRoundResult(targets: [one(outcome & 0x0F, gatewayName), one(outcome >> 4, anchorName)])
    }

    static var gatewayName: String { "gateway 198.18.0.1" }
    static var anchorName: String { "anchor 198.19.0.1" }

    func finish() {
        result.traceHash = hash
        result.verificationsComputed = verifier?.computed ?? result.datagramsDelivered
        result.verificationsMemoized = verifier?.memoized ?? 0
        recordVerifyAhead()
        result.rejected = rejectedCounts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        evaluateExpectations()
    }
}
