import NetHealCore

/// A tiny in-test fleet: N real `NodeCore`s on a virtual clock, a directed link matrix, per-node probe
/// outcomes, and heal actions that take `actionDuration` and (optionally) repair the node. It plays the
/// shell: stamps views, keeps the latest view per origin (like the wire layer), drops non-newer views,
/// attaches relays. Deterministic: events are ordered by (time, insertion).
struct Fleet {
    struct Heal: Equatable {
        var node: Int
        var at: Instant
        var order: HealOrder
        var dryRun: Bool
    }

    enum Event {
        case input(Int, CoreInput)
        case tick(Int)
        case repair(Int)
    }

    let roster: ClusterRoster
    var settings: HealSettings
    var nodes: [NodeCore]
    var now = Instant.zero
    /// `link[a][b]`: a datagram from a reaches b.
    var link: [[Bool]]
    /// Whether a node's probe round answers.
    var probesOK: [Bool]
    /// A heal of this node repairs it: all its links and its probes work again.
    var repairable: [Bool]
    /// Added to a node's wall clock in the views it stamps (clock skew; must not matter).
    var clockOffsetMillis: [Int64]
    var latency: Duration = .milliseconds(5)
    var actionDuration: Duration = .seconds(2)
    var tickInterval: Duration = .seconds(1)

    var incarnation: [UInt64]
    var sequence: [UInt64]
    /// The shell's store: latest view per origin, per node.
    var stored: [[ReachabilityView?]]
    var persisted: [PacingState?]
    var records: [[DecisionRecord]]
    var heals: [Heal] = []
    /// Most nodes with a (real or dry-run) heal running or settling at one instant.
    var maxConcurrentHealing = 0
    /// Per node: instants at which a cycle/would-heal was ordered while its last probe round had answered.
    var healsWhileProbesOK: [Int] = []
    var lastProbeAnswered: [Bool]

    private var queue = EventQueue()

    init(size: Int, settings: HealSettings = HealSettings(), seed: UInt64 = 1) {
        let roster = Fleet.roster(size: size)
        self.roster = roster
        self.settings = settings
        var rng = SplitMix64(seed: seed)
        var nodes: [NodeCore] = []
        for i in 0..<size {
            nodes.append(NodeCore(roster: roster, me: MemberIndex(i), settings: settings, pacing: nil, seed: rng.next()))
        }
        self.nodes = nodes
        link = Array(repeating: Array(repeating: true, count: size), count: size)
        probesOK = Array(repeating: true, count: size)
        repairable = Array(repeating: true, count: size)
        clockOffsetMillis = Array(repeating: 0, count: size)
        incarnation = Array(repeating: 1, count: size)
        sequence = Array(repeating: 0, count: size)
        stored = Array(repeating: Array(repeating: nil, count: size), count: size)
        persisted = Array(repeating: nil, count: size)
        records = Array(repeating: [], count: size)
        lastProbeAnswered = Array(repeating: true, count: size)
        brokenLinks = Array(repeating: [], count: size)
        for i in 0..<size {
            // Spread the ticks over the interval so that nodes are not in lockstep.
            queue.push(at: Instant.zero + tickInterval * i / size, .tick(i))
        }
    }

    static func roster(size: Int) -> ClusterRoster {
        ClusterRoster(clusterID: "test", members: (0..<size).map { .init(name: "n\($0)", publicKey: []) })
    }

    // MARK: Faults

    /// The links and probe state each node's own fault broke (restored when a heal repairs it).
    var brokenLinks: [[(Int, Int)]] = []

    private mutating func cut(_ i: Int, _ a: Int, _ b: Int) {
        guard link[a][b] else { return }
        link[a][b] = false
        brokenLinks[i].append((a, b))
    }

    /// Node `i` can neither send nor receive; its probes fail (a wedged interface).
    mutating func wedge(_ i: Int) {
        for j in link.indices where j != i {
            cut(i, i, j)
            cut(i, j, i)
        }
        probesOK[i] = false
    }

    /// Node `i` cannot send (its datagrams and probes are lost) but still receives; `except` still hear it.
    mutating func cutTransmit(_ i: Int, except: Set<Int> = []) {
        for j in link.indices where j != i && !except.contains(j) { cut(i, i, j) }
        probesOK[i] = false
    }

    /// Node `i` cannot receive (answers and peers' datagrams are lost) but its sends go out.
    mutating func cutReceive(_ i: Int) {
        for j in link.indices where j != i { cut(i, j, i) }
        probesOK[i] = false
    }

    /// The upstream fails for these nodes (their probes fail), the LAN is fine.
    mutating func upstreamOutage(_ members: some Sequence<Int>) {
        for i in members { probesOK[i] = false }
    }

    /// The upstream is back for these nodes.
    mutating func upstreamRestored(_ members: some Sequence<Int>) {
        for i in members where brokenLinks[i].isEmpty { probesOK[i] = true }
    }

    /// The node's own fault goes away by itself.
    mutating func restore(_ i: Int) { repair(i) }

    private mutating func repair(_ i: Int) {
        for (a, b) in brokenLinks[i] { link[a][b] = true }
        brokenLinks[i] = []
        probesOK[i] = true
    }

    // MARK: Running

    /// Run until `end` (inclusive).
    mutating func run(until end: Instant) {
        while let next = queue.peekTime, next <= end {
            let (at, event) = queue.pop()
            now = at
            switch event {
            case .tick(let i):
                perform(i, nodes[i].handle(.tick, now: now))
                queue.push(at: now + tickInterval, .tick(i))
            case .input(let i, let input):
                deliver(i, input)
            case .repair(let i):
                repair(i)
            }
            let healing = nodes.reduce(0) { $0 + ($1.pacing.inProgress == nil ? 0 : 1) }
            maxConcurrentHealing = max(maxConcurrentHealing, healing)
        }
        now = end
    }

    mutating func run(for duration: Duration) { run(until: now + duration) }

    /// Restart node `i` from its persisted pacing state (new incarnation; its pending action is lost).
    mutating func restart(_ i: Int, seed: UInt64 = 99) {
        nodes[i] = NodeCore(roster: roster, me: MemberIndex(i), settings: settings, pacing: persisted[i], seed: seed)
        incarnation[i] += 1
        sequence[i] = 0
        queue.removeAll { event in
            if case .input(i, .healFinished) = event { return true }
            if case .repair(i) = event { return true }
            return false
        }
        perform(i, nodes[i].handle(.started, now: now))
    }

    private mutating func deliver(_ i: Int, _ input: CoreInput) {
        if case .viewReceived(let view, _) = input {
            // The wire layer's replay check: only strictly newer views of an origin get through.
            if let held = stored[i][view.origin.int], view.version <= held.version { return }
            stored[i][view.origin.int] = view
        }
        if case .probeRound(let round) = input { lastProbeAnswered[i] = round.anyAnswered }
        perform(i, nodes[i].handle(input, now: now))
    }

    private mutating func perform(_ i: Int, _ effects: [CoreEffect]) {
        for effect in effects {
            switch effect {
            case .gossip(let content, let targets, let relay):
                sequence[i] += 1
                let wall = UInt64(1_700_000_000_000 + now.nanoseconds / 1_000_000 + clockOffsetMillis[i])
                let view = content.view(
                    origin: MemberIndex(i), incarnation: incarnation[i], sequence: sequence[i],
                    originTimeMillis: wall, configDigest: 0)
                for target in targets where link[i][target.int] {
                    queue.push(at: now + latency, .input(target.int, .viewReceived(view, direct: true)))
                    for origin in relay where origin != target {
                        if let relayed = stored[i][origin.int] {
                            queue.push(at: now + latency, .input(target.int, .viewReceived(relayed, direct: false)))
                        }
                    }
                }
            case .runProbeRound:
                let ok = probesOK[i]
                let round = ProbeRoundResult(targets: [
                    ProbeTargetResult(target: "gw", outcome: ok ? .answered : .timedOut),
                    ProbeTargetResult(target: "anchor", outcome: ok ? .answered : .sendError("ENETUNREACH")),
                ])
                queue.push(at: now + (ok ? .milliseconds(20) : settings.probeTimeout), .input(i, .probeRound(round)))
            case .cycleInterface(let order):
                heals.append(Heal(node: i, at: now, order: order, dryRun: false))
                if lastProbeAnswered[i] { healsWhileProbesOK.append(i) }
                queue.push(at: now + actionDuration, .input(i, .healFinished(.completed)))
                if repairable[i] { queue.push(at: now + actionDuration - .milliseconds(1), .repair(i)) }
            case .wouldHeal(let order):
                heals.append(Heal(node: i, at: now, order: order, dryRun: true))
                if lastProbeAnswered[i] { healsWhileProbesOK.append(i) }
            case .persist(let state):
                persisted[i] = state
            case .decisionChanged(let record):
                records[i].append(record)
            }
        }
    }

    // MARK: Queries

    func heals(of node: Int) -> [Heal] { heals.filter { $0.node == node } }
    func rules(of node: Int) -> [DecisionRule] { records[node].map(\.rule) }
}

/// A binary min-heap of events by (time, insertion order).
struct EventQueue {
    private var heap: [(at: Instant, seq: Int, event: Fleet.Event)] = []
    private var counter = 0

    var peekTime: Instant? { heap.first?.at }

    mutating func push(at: Instant, _ event: Fleet.Event) {
        counter += 1
        heap.append((at, counter, event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Instant, Fleet.Event) {
        let top = heap[0]
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        siftDown(0)
        return (top.at, top.event)
    }

    mutating func removeAll(where predicate: (Fleet.Event) -> Bool) {
        let kept = heap.filter { !predicate($0.event) }
        heap = []
        for entry in kept.sorted(by: { ($0.at, $0.seq) < ($1.at, $1.seq) }) {
            heap.append(entry)
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool { (heap[a].at, heap[a].seq) < (heap[b].at, heap[b].seq) }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, less(left, smallest) { smallest = left }
            if right < heap.count, less(right, smallest) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension Instant {
    static func seconds(_ s: Double) -> Instant { Instant(nanoseconds: Int64(s * 1e9)) }
}
