import NetHealCore
import NetHealSodium
import NetHealWire

/// Gossip bandwidth of one node at default settings: the core's own `.gossip` effects over a simulated
/// window (after a 10 s warm-up, ticks every 100 ms, probes answering), each datagram sized by the real encoder (sender view + the relayed views the effect names,
/// minus the recipient's own, as many as fit), divided by the window. Peers feed the node what a fleet
/// at default settings delivers: every peer sends to `gossipFanout` peers per interval, so a node
/// receives on average `gossipFanout` direct views per interval (round-robin over the peers here).
struct GossipBench {
    let n: Int

    struct Totals {
        var datagrams = 0
        var bytes = 0
        var encodable = true
    }

    /// Start-up time simulated before the window opens (not counted): the first rounds after start
    /// follow the start instant, not the steady rhythm.
    static let warmUp = Duration.seconds(10)

    /// One simulated window (after `warmUp`) with core seed `seed`.
    func simulate(window: Duration, seed: UInt64, fleet: GossipFleet) throws -> Totals {
        let settings = HealSettings()
        var core = NodeCore(roster: fleet.roster, me: MemberIndex(0), settings: settings, pacing: nil, seed: seed)
        var totals = Totals()
        var sequence = [UInt64](repeating: 0, count: n)
        let peers = core.neighbors.map(\.int)
        var nextPeer = 0
        let tick = Duration.milliseconds(100)
        var now = Instant.zero
        let opens = Instant.zero + Self.warmUp
        let end = opens + window
        var lastFeed = Instant.zero - settings.gossipInterval
        while now < end {
            if now - lastFeed >= settings.gossipInterval {
                lastFeed = now
                for _ in 0..<min(settings.gossipFanout, peers.count) {
                    let peer = peers[nextPeer]
                    sequence[peer] += 1
                    let view = fleet.peerView(peer, sequence: sequence[peer])
                    _ = core.handle(.viewReceived(view, direct: true), now: now)
                    nextPeer = nextPeer + 1 == peers.count ? 0 : nextPeer + 1
                }
            }
            for effect in core.handle(.tick, now: now) {
                switch effect {
                case .runProbeRound:
                    _ = core.handle(.probeRound(.init(targets: [.init(target: "gw", outcome: .answered)])), now: now)
                case .gossip(let content, let targets, let relay):
                    let view = content.view(
                        origin: MemberIndex(0), incarnation: 1, sequence: UInt64(totals.datagrams + 1),
                        originTimeMillis: 1_700_000_000_000, configDigest: 0)
                    for target in targets where now >= opens {
                        totals.datagrams += 1
                        totals.bytes += try fleet.datagramBytes(view, relaying: relay.filter { $0 != target }, totals: &totals)
                    }
                default:
                    break
                }
            }
            now = now + tick
        }
        return totals
    }

    func rows(_ s: BenchSettings) throws -> [BenchRow] {
        let fleet = try GossipFleet(n)
        var datagramRates: [Double] = []
        var byteRates: [Double] = []
        var encodable = true
        let seconds = Measure.seconds(s.simulatedGossipTime)
        for run in 0..<s.runs {
            let totals = try simulate(window: s.simulatedGossipTime, seed: UInt64(run + 1), fleet: fleet)
            datagramRates.append(Double(totals.datagrams) / seconds)
            byteRates.append(Double(totals.bytes) / seconds)
            encodable = encodable && totals.encodable
        }
        let idBytes = fleet.roster.clusterID.utf8.count
        let viewBytes =
            fleet.graph.isFullMesh
            ? WireFormat.viewBytes(clusterIDBytes: idBytes, memberCount: n)
            : WireFormat.listedViewBytes(clusterIDBytes: idBytes, entries: fleet.graph.neighbors(of: MemberIndex(0)).count)
        let size = membersLabel(n) + " (\(fleet.graph.isFullMesh ? "dense" : "listed") view \(BenchReport.group(viewBytes)) B)"
        let note = encodable ? "real encoder sizes" : "a view exceeds the 1,400 B datagram: sizes computed, encoder refuses"
        return [
            BenchRow(figure: "gossip datagrams sent per node per second", size: size, median: Measure.median(datagramRates),
                     unit: "datagrams/s", anchor: "memberlist LAN defaults: 200 ms × fanout 3 + 1 probe/s",
                     anchorMedian: 16, anchorMeasured: false, runs: s.runs, note: note),
            BenchRow(figure: "gossip bytes sent per node per second (UDP payload)", size: size, median: Measure.median(byteRates),
                     unit: "B/s", anchor: "memberlist defaults at full 1,400 B packets", anchorMedian: 16 * 1400,
                     anchorMeasured: false, runs: s.runs, note: note),
        ]
    }
}

/// The keys and signed peer views a gossip simulation needs. Relayed views are signed once per peer
/// (sizes do not depend on the sequence); when a view of this fleet cannot fit a datagram, sizes are
/// computed from the wire format instead.
struct GossipFleet {
    let roster: ClusterRoster
    let graph: NeighborGraph
    let signer: Ed25519Signer?
    let encoder: DatagramEncoder
    private var reach: [Reach]
    private var relayed: [SignedView?] = []

    /// Member 0 and the members whose views it relays (its neighbours) get real keys; in neighbourhood
    /// mode the others never sign anything here, so a 10,000-member fleet needs ~33 key pairs.
    init(_ n: Int) throws {
        let id = "bench-fleet"
        let names = CoreBench.roster(n)
        graph = NeighborGraph(roster: names, size: HealSettings().neighborhoodSize)
        let keyed = [0] + graph.neighbors(of: MemberIndex(0)).map(\.int)
        var signers = [Ed25519Signer?](repeating: nil, count: n)
        for i in keyed { signers[i] = try Ed25519Signer(seed: BenchKeys.seed(for: i)) }
        roster = ClusterRoster(
            clusterID: id,
            members: (0..<n).map { .init(name: "n\($0)", publicKey: signers[$0]?.publicKey ?? [UInt8](repeating: 0, count: 32)) })
        signer = signers[0]
        encoder = DatagramEncoder(roster: roster)
        reach = graph.isFullMesh ? [Reach](repeating: .reachable, count: n) : []
        // Pre-sign one view per neighbour: these are what the node relays.
        var views = [SignedView?](repeating: nil, count: n)
        for i in keyed.dropFirst() { views[i] = try encoder.sign(peerView(i, sequence: 1), with: signers[i]!) }
        relayed = views
    }

    func peerView(_ origin: Int, sequence: UInt64) -> ReachabilityView {
        var reach = self.reach
        var subjects: [MemberIndex]?
        if graph.isFullMesh {
            reach[origin] = .isSelf
        } else {
            subjects = graph.neighbors(of: MemberIndex(origin))
            reach = [Reach](repeating: .reachable, count: subjects!.count)
        }
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 1, sequence: sequence, originTimeMillis: 0, configDigest: 0,
            upstream: .up, decision: .healthy, reach: reach, reachSubjects: subjects)
    }

    /// The size of the datagram the shell would send: the real encoder's, or the wire arithmetic's.
    func datagramBytes(_ view: ReachabilityView, relaying origins: [MemberIndex], totals: inout GossipBench.Totals) throws -> Int {
        if let signer {
            let views = origins.compactMap { relayed[$0.int] }
            return try encoder.encode(view, signer: signer, relaying: views).bytes.count
        }
        totals.encodable = false
        let id = roster.clusterID.utf8.count
        let capacity = max(1, WireFormat.viewsPerDatagram(clusterIDBytes: id, memberCount: roster.count))
        return WireFormat.headerBytes + WireFormat.viewBytes(clusterIDBytes: id, memberCount: roster.count) * min(capacity, 1 + origins.count)
    }
}
