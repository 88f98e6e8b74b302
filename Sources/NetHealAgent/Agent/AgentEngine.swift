import Logging
import NIOCore
import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealWire

/// Slow I/O the engine hands to the service's worker loop; the result comes back as an input.
enum WorkOrder: Sendable {
    /// Probe every configured target once (`.probeRound` comes back).
    case probeRound(ProbePlan)
    /// Run the heal action of this ladder step (`.healFinished` comes back).
    case heal(HealOrder, InterfaceHealer)
    /// Record the interface's known-good baseline (probes succeed).
    case recordBaseline(InterfaceHealer)
}

/// The one owner of the decision core. Every input (tick, decoded view, probe round, heal outcome,
/// reload, off switch) is handled here, one at a time, and its effects are turned into I/O: signed
/// datagrams, work orders, persisted pacing, log lines. No locks: the actor is the only owner.
actor AgentEngine {
    // MARK: Configuration in force

    var config: NodeConfiguration
    var settings: HealSettings
    var core: NodeCore
    var decoder: DatagramDecoder
    var encoder: DatagramEncoder
    var watermarks: ViewWatermarks
    var configDigest: UInt64
    /// Every member's gossip addresses, in member order.
    var peerAddresses: [[SocketAddress]]

    // MARK: What this node heard (for relaying and `status`)

    /// The newest accepted signed view of each member (relayed as is).
    var latest: [SignedView?]
    var receivedAt: [Instant?]
    var lastDirect: [Instant?]
    var lastProbe: [ProbeStatus] = []
    var counters = EngineCounters()

    // MARK: Fixed for the run

    let incarnation: UInt64
    let signer: Ed25519Signer
    let store: StateStore
    let transport: GossipTransport
    let metrics: AgentMetrics
    let notifier: SystemdNotifier
    let watchdog: SystemdWatchdog
    let clock: AgentClock
    let logger: Logger
    let startedAt: Instant
    let bindProbes: Bool
    let orders: AsyncStream<WorkOrder>.Continuation

    var sequence: UInt64 = 0
    var healer: InterfaceHealer
    var healerSpec: HealActionSpec
    var probeRunner: ProbeRunner
    var lastBaselineAt: Instant?
    var lastReload: ReloadStatus?

    // MARK: The two sources of "healing enabled" (kept apart; the core gets their AND)

    /// The operator's off switch (`control disable|enable`), the only one persisted.
    var operatorHealingEnabled = true
    /// True while the wall clock is inside one of the node file's `maintenance_windows`.
    var inMaintenance = false
    /// While `inMaintenance`: when the window ends (nil: it never does), and the schedule it was computed for.
    var maintenanceUntilMillis: Int64?
    var maintenanceComputedFor = MaintenanceSchedule()

    init(
        setup: AgentSetup, transport: GossipTransport, metrics: AgentMetrics, notifier: SystemdNotifier,
        watchdog: SystemdWatchdog, clock: AgentClock, logger: Logger, bindProbes: Bool,
        orders: AsyncStream<WorkOrder>.Continuation
    ) throws {
        let config = setup.config
        self.config = config
        self.settings = config.effectiveSettings
        self.incarnation = setup.incarnation
        self.signer = setup.signer
        self.store = setup.store
        self.transport = transport
        self.metrics = metrics
        self.notifier = notifier
        self.watchdog = watchdog
        self.clock = clock
        self.logger = logger
        self.bindProbes = bindProbes
        self.orders = orders
        self.configDigest = setup.configDigest
        self.healer = setup.healer
        self.healerSpec = setup.healer.action
        self.startedAt = clock.now()
        let roster = config.roster
        self.core = NodeCore(
            roster: roster, me: config.memberIndex, settings: config.effectiveSettings, pacing: setup.pacing,
            seed: setup.incarnation &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(config.memberIndex.rawValue))
        self.decoder = DatagramDecoder(roster: roster, verifier: Ed25519Verifier())
        self.encoder = DatagramEncoder(roster: roster)
        var marks = ViewWatermarks(memberCount: roster.count)
        marks.pin(config.memberIndex)
        marks.wantRelayed(from: core.isFullMesh ? nil : core.neighbors)
        self.watermarks = marks
        self.peerAddresses = try Self.socketAddresses(config)
        self.latest = Array(repeating: nil, count: roster.count)
        self.receivedAt = Array(repeating: nil, count: roster.count)
        self.lastDirect = Array(repeating: nil, count: roster.count)
        self.probeRunner = ProbeRunner(settings: Self.probeSettings(config, bind: bindProbes))
        self.operatorHealingEnabled = setup.healingEnabled
        if !setup.healingEnabled { _ = core.handle(.setHealingEnabled(false), now: startedAt) }
    }

    /// How often the core is ticked: `min(gossip_interval, probe_interval)`, as the design's bounds
    /// and the simulator assume (docs/design.md §1); at least 20 ms.
    var tickInterval: Duration { max(.milliseconds(20), min(settings.gossipInterval, settings.probeInterval)) }

    var me: MemberIndex { config.memberIndex }

    // MARK: Inputs

    /// Feeds inputs to the core, performs the effects, then beats the decision-loop watchdog.
    /// Every call first checks the maintenance windows, so the core's switch is right before any input.
    func handle(_ inputs: [CoreInput]) async {
        let inputs = refreshMaintenance() + inputs
        let now = clock.now()
        var sends: [(bytes: [UInt8], to: [SocketAddress])] = []
        for input in inputs {
            for effect in core.handle(input, now: now) { perform(effect, now: now, sends: &sends) }
        }
        if inputs.contains(.tick) { refreshGauges(now: now) }
        watchdog.beat(.decisionLoop)
        if !sends.isEmpty { _ = await transport.send(sends) }
    }

    /// A probe round finished.
    func probeFinished(_ round: ProbeRoundResult, details: [ProbeStatus]) async {
        lastProbe = details
        for (target, detail) in zip(round.targets, details) {
            metrics.probe(target: target.target, ok: detail.ok, outcome: target.outcome)
        }
        await handle([.probeRound(round)])
        let now = clock.now()
        if round.anyAnswered, core.state == .healthy, lastBaselineAt.map({ now - $0 >= .seconds(300) }) ?? true {
            lastBaselineAt = now
            orders.yield(.recordBaseline(healer))
        }
    }

    /// A heal action finished.
    func healFinished(_ outcome: NetHealCore.HealOutcome, summary: String) async {
        metrics.healFinished(outcome)
        logger.notice("heal outcome", metadata: ["outcome": "\(outcome)", "report": "\(summary)"])
        await handle([.healFinished(outcome)])
    }

    /// The operator's off switch; persisted with the pacing state. The core is enabled only when
    /// this is on and no maintenance window is open.
    func setHealingEnabled(_ enabled: Bool) async {
        operatorHealingEnabled = enabled
        await handle([])
        persist(core.pacing, now: clock.now())
        logger.notice(enabled ? "healing enabled by the operator" : "healing disabled by the operator")
    }

    /// Records the outcome of a reload for `status`.
    func noteReload(applied: Bool, messages: [String]) {
        lastReload = ReloadStatus(atMillis: clock.wallMillis(), applied: applied, messages: messages)
    }

    // MARK: Effects

    private func perform(_ effect: CoreEffect, now: Instant, sends: inout [(bytes: [UInt8], to: [SocketAddress])]) {
        switch effect {
        case .gossip(let content, let targets, let relay):
            // One sequence and one signature per gossip round: every target gets the same signed view
            // (docs/protocol.md §6.2); only the relayed views differ per target.
            sequence += 1
            let view = content.view(
                origin: me, incarnation: incarnation, sequence: sequence, originTimeMillis: UInt64(max(0, clock.wallMillis())),
                configDigest: configDigest)
            let own: SignedView
            do {
                own = try encoder.sign(view, with: signer)
            } catch {
                logger.error("cannot sign a view", metadata: ["error": "\(error)"])
                return
            }
            let relayed = relay.compactMap { latest[$0.int] }
            for target in targets where target.int < peerAddresses.count {
                // No relays to a peer known to run another cluster file: across file versions the keys
                // or member order may differ, and one relayed view the receiver cannot verify makes it
                // reject the whole datagram (our own view included). A peer not heard yet gets relays.
                // See docs/key-rotation.md.
                let sameClusterFile = latest[target.int].map { $0.view.configDigest == configDigest } ?? true
                let datagram = encoder.encode(
                    signed: own, relaying: sameClusterFile ? relayed.filter { $0.origin != target } : [])
                sends.append((datagram.bytes, peerAddresses[target.int]))
            }
        case .runProbeRound:
            orders.yield(
                .probeRound(
                    ProbePlan(targets: config.node.probeTargets, interface: config.node.interface, runner: probeRunner))
            )
        case .cycleInterface(let order):
            let spec = HealActionSpec(config.healAction(step: order.step))
            if spec != healerSpec {
                do {
                    healer = try InterfaceHealer(
                        interface: config.node.interface, action: spec, store: store, logger: logger)
                    healerSpec = spec
                } catch {
                    logger.error(
                        "heal action of step \(order.step) is invalid; using the previous one",
                        metadata: ["error": "\(error)"])
                }
            }
            counters.healsStarted += 1
            metrics.healStarted()
            logger.notice(
                "heal",
                metadata: [
                    "rule": "\(order.rule.id)", "reason": "\(order.reason)", "step": "\(order.step)",
                    "healsInWindow": "\(order.healsInWindow)", "action": "\(healerSpec.kind.rawValue)",
                ])
            orders.yield(.heal(order, healer))
        case .wouldHeal(let order):
            counters.wouldHeals += 1
            metrics.wouldHeal()
            logger.notice(
                "would heal (dry run)",
                metadata: [
                    "rule": "\(order.rule.id)", "reason": "\(order.reason)", "step": "\(order.step)",
                    "healsInWindow": "\(order.healsInWindow)",
                ])
        case .persist(let pacing):
            persist(pacing, now: now)
        case .decisionChanged(let record):
            logger.notice(
                "decision",
                metadata: [
                    "state": "\(record.state)", "rule": "\(record.rule.id)", "reason": "\(record.reason)",
                    "freshPeers": "\(record.evidence.freshPeers)", "upstream": "\(record.evidence.probes.upstream)",
                ])
            if record.state == .hold { metrics.hold(rule: record.rule) }
            do {
                try notifier.status("\(record.state): \(record.reason)")
            } catch {
                logger.debug("cannot send STATUS to systemd", metadata: ["error": "\(error)"])
            }
        }
    }

    func persist(_ pacing: PacingState, now: Instant) {
        let record = PersistedPacing(
            pacing: pacing, savedWallMillis: clock.wallMillis(), savedMonotonicNanos: now.nanoseconds,
            healingEnabled: operatorHealingEnabled)
        do {
            try store.save(record, to: .pacing)
        } catch {
            logger.error("cannot persist the pacing state", metadata: ["error": "\(error)"])
        }
    }

    private func refreshGauges(now: Instant) {
        let drops = transport.counters
        metrics.set(
            freshPeers: freshCount(now: now), healingEnabled: core.healingEnabled,
            transportDrops: drops.droppedOversize + drops.droppedQueueFull + drops.droppedSourceRateLimited
                + drops.droppedGlobalRateLimited)
    }

    func freshCount(now: Instant) -> Int {
        let freshness = settings.effectiveViewFreshness(memberCount: config.roster.count)
        return receivedAt.indices.filter { $0 != me.int && receivedAt[$0].map { now - $0 < freshness } == true }.count
    }

    // MARK: Helpers

    static func socketAddresses(_ config: NodeConfiguration) throws -> [[SocketAddress]] {
        try config.addresses.map { list in try list.map { try SocketAddress(ipAddress: $0.host, port: Int($0.port)) } }
    }

    static func probeSettings(_ config: NodeConfiguration, bind: Bool) -> ProbeSettings {
        ProbeSettings(interface: bind ? config.node.interface : nil, timeout: config.effectiveSettings.probeTimeout)
    }
}

/// View counters kept by the engine (the transport keeps its own).
struct EngineCounters: Sendable {
    var viewsAccepted = 0
    var viewsRelayedAccepted = 0
    var relayedSkipped = 0
    var relayedRedundant = 0
    var indirectSenders = 0
    var rejected: [String: Int] = [:]
    var healsStarted = 0
    var wouldHeals = 0
}
