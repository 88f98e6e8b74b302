import Foundation
import Logging
import NIOCore
import NetHealConfig
import NetHealCore
import ServiceLifecycle
import UnixSignals

/// The netheal-cluster agent as a swift-service-lifecycle `Service`: `netheal-cluster run` puts it in
/// a `ServiceGroup` that turns SIGTERM/SIGINT into a graceful shutdown.
///
/// Start order: configuration and key, state directory, incarnation, completion of an unfinished
/// heal, pacing state, gossip sockets, control socket, metrics endpoint, then `READY=1`. Then four
/// loops run until shutdown: the tick timer, the inbound datagrams, the worker (probe rounds and heal
/// actions, results fed back as inputs) and the watchdog gate; plus SIGHUP reloads.
public struct NetHealAgentService: Service {
    public let options: AgentOptions

    public init(options: AgentOptions) { self.options = options }

    public func run() async throws {
        var logger = options.logger
        let setup = try await AgentSetup.prepare(options: options, logger: logger)
        logger.logLevel = Logger.Level(rawValue: setup.config.node.logLevel.rawValue) ?? .info
        logger[metadataKey: "node"] = "\(setup.config.roster.name(setup.config.memberIndex))"
        if let recovery = setup.recovery {
            logger.notice("completed an unfinished heal before start", metadata: ["report": "\(recovery.summary)"])
        }
        let group = options.eventLoopGroup
        let local: [SocketAddress]
        do {
            local = try setup.config.ownAddresses.map { try SocketAddress(ipAddress: $0.host, port: Int($0.port)) }
        } catch {
            throw AgentStartupError.setup("bad own gossip address: \(error)")
        }
        let transport = try await GossipTransport.bind(local, group: group)
        let metrics = AgentMetrics()
        let watchdog = SystemdWatchdog(notifier: options.notifier)
        let (orders, orderSink) = AsyncStream.makeStream(of: WorkOrder.self)
        let engine: AgentEngine
        let control: ControlServer
        var metricsServer: MetricsServer?
        do {
            engine = try AgentEngine(
                setup: setup, transport: transport, metrics: metrics, notifier: options.notifier, watchdog: watchdog,
                clock: options.clock, logger: logger, bindProbes: options.bindProbesToInterface, orders: orderSink)
            control = try await ControlServer.start(
                path: setup.config.node.controlSocket, group: setup.config.node.controlGroup, eventLoops: group)
        } catch {
            await transport.close()
            throw error
        }
        if let listen = setup.config.node.metricsListen {
            do {
                metricsServer = try await MetricsServer.start(
                    host: listen.host, port: Int(listen.port), metrics: metrics, eventLoops: group)
            } catch {
                await control.close()
                await transport.close()
                throw error
            }
        }
        // The event-loop beat must come several times per ping interval (half the watchdog timeout):
        // every eighth of the timeout, 4 per ping interval (3.75 s at `WatchdogSec=30s`). Without a
        // watchdog nothing reads the beats, and an idle agent's every wake-up costs CPU: none then.
        let beats = options.notifier.watchdogTimeout.map { timeout in
            watchdog.scheduleEventLoopBeats(
                on: group.next(), every: .nanoseconds(max(1_000_000, (timeout / 8).nanosecondsClamped)))
        }
        logger.notice(
            "agent started",
            metadata: [
                "incarnation": "\(setup.incarnation)", "gossip": "\(transport.localAddresses)",
                "control": "\(setup.config.node.controlSocket)", "interface": "\(setup.config.node.interface)",
                "mode": "\(setup.config.node.mode.rawValue)", "members": "\(setup.config.roster.count)",
            ])
        await engine.handle([.started])
        do {
            try options.notifier.ready(
                status: "starting: listening on \(transport.localAddresses.count) gossip socket(s)")
        } catch {
            logger.warning("cannot send READY=1 to systemd", metadata: ["error": "\(error)"])
        }
        let server = metricsServer
        let loopLogger = logger
        let reload = options.reloadOnSIGHUP
        let nodeFile = options.nodeFile
        let loops: @Sendable () async -> Void = {
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { tasks in
                    let tickLoop = options.runOnEventLoop ? group.next() : nil
                    tasks.addTask { await Self.tickLoop(engine, on: tickLoop) }
                    tasks.addTask {
                        while let batch = await transport.queue.nextBatch() { await engine.receive(batch) }
                    }
                    tasks.addTask { await Self.workLoop(orders, engine: engine, logger: loopLogger) }
                    tasks.addTask { await watchdog.run() }
                    if options.trimResidentSet { tasks.addTask { await Self.trimLoop(logger: loopLogger) } }
                    tasks.addTask { await control.serve { await engine.respond($0) } }
                    if let server { tasks.addTask { await server.serve() } }
                    if let requests = options.reloadRequests {
                        tasks.addTask {
                            for await _ in requests {
                                await Self.reload(
                                    nodeFile: nodeFile, engine: engine, notifier: options.notifier, logger: loopLogger)
                            }
                        }
                    }
                    if reload {
                        tasks.addTask {
                            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                                await Self.reload(
                                    nodeFile: nodeFile, engine: engine, notifier: options.notifier, logger: loopLogger)
                            }
                        }
                    }
                }
            }
        }
        if options.runOnEventLoop, #available(macOS 15.0, *) {
            await withTaskExecutorPreference(EventLoopTaskExecutor(group.next())) { await loops() }
        } else {
            await loops()
        }
        logger.notice("agent stopping")
        try? options.notifier.stopping(status: "stopping")
        beats?.cancel()
        orderSink.finish()
        await control.close()
        await server?.close()
        await transport.close()
    }

    // MARK: Loops

    /// Feeds `.tick` at the engine's tick interval until cancelled. With `eventLoop` (the daemon,
    /// `AgentOptions.runOnEventLoop`) the wait is a timer on that loop, not `Task.sleep`, whose
    /// wake-up would land on a Dispatch thread: the ticks then stay on the agent's one thread.
    /// Ticks keep a fixed rate (each deadline is the previous one plus the interval, so the time a
    /// tick takes does not stretch the period); after a stall longer than one interval the schedule
    /// restarts one interval from then.
    static func tickLoop(_ engine: AgentEngine, on eventLoop: (any EventLoop)?) async {
        var deadline = NIODeadline.now()
        while !Task.isCancelled {
            await engine.handle([.tick])
            let interval = TimeAmount.nanoseconds(await engine.tickInterval.nanosecondsClamped)
            let now = NIODeadline.now()
            deadline = deadline + interval
            if deadline <= now { deadline = now + interval }
            guard let eventLoop else {
                do { try await Task.sleep(for: .nanoseconds((deadline - now).nanoseconds)) } catch { return }
                continue
            }
            let timer = eventLoop.scheduleTask(deadline: deadline) {}
            do {
                try await withTaskCancellationHandler {
                    try await timer.futureResult.get()
                } onCancel: {
                    timer.cancel()
                }
            } catch {
                return
            }
        }
    }

    /// Trims the resident set (`ResidentTrim`) 10 s after start, when start-up is over, then every
    /// 5 minutes (a heal, a reload or a status request may have touched pages the loops never use).
    static func trimLoop(logger: Logger) async {
        var delay = Duration.seconds(10)
        while !Task.isCancelled {
            do { try await Task.sleep(for: delay) } catch { return }
            let trimmed = ResidentTrim.trimCurrentProcess()
            logger.debug("resident set trimmed", metadata: ["unmappedKB": "\(trimmed)"])
            delay = .seconds(300)
        }
    }

    /// Runs work orders, each in its own child task, until cancelled. A heal runs in a task of its own
    /// that cancellation does not reach: shutdown waits for it, so the interface is never left down.
    static func workLoop(_ orders: AsyncStream<WorkOrder>, engine: AgentEngine, logger: Logger) async {
        await withDiscardingTaskGroup { group in
            for await order in orders {
                switch order {
                case .probeRound(let plan):
                    group.addTask {
                        let (round, details) = await plan.run()
                        await engine.probeFinished(round, details: details)
                    }
                case .heal(let order, let healer):
                    group.addTask {
                        let incarnation = engine.incarnation
                        let result = await Task {
                            do {
                                let report = try await healer.heal(reason: order.reason, incarnation: incarnation)
                                return (Self.outcome(report), report.summary)
                            } catch {
                                return (
                                    NetHealCore.HealOutcome.failed(detail: "\(error)"), "heal did not run: \(error)"
                                )
                            }
                        }.value
                        await engine.healFinished(result.0, summary: result.1)
                    }
                case .recordBaseline(let healer):
                    group.addTask {
                        do {
                            try await healer.recordBaseline()
                        } catch {
                            logger.debug("no interface baseline recorded", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    /// The core's view of a heal report.
    static func outcome(_ report: HealReport) -> NetHealCore.HealOutcome {
        if report.outcome.succeeded { return .completed }
        if report.steps.contains(where: { $0.purpose == .action && $0.result.timedOut }) { return .timedOut }
        return .failed(detail: report.verification.summary)
    }

    /// SIGHUP: load the configuration again; a bad one leaves the running one in force and logs every
    /// problem; a good one is applied.
    static func reload(nodeFile: String, engine: AgentEngine, notifier: SystemdNotifier, logger: Logger) async {
        logger.notice("SIGHUP: reloading the configuration", metadata: ["nodeFile": "\(nodeFile)"])
        try? notifier.reloading(status: "reloading the configuration")
        defer { try? notifier.ready(status: "reload done") }
        do {
            let config = try AgentSetup.loadConfiguration(nodeFile)
            let digest = try AgentSetup.configDigest(config.clusterFileBytes)
            let changes = try await engine.apply(config, digest: digest)
            for change in changes { logger.notice("reload: \(change)") }
            await engine.noteReload(applied: true, messages: changes)
        } catch {
            logger.error("reload refused, the running configuration stays in force", metadata: ["problems": "\(error)"])
            try? notifier.status("reload refused: \(error)")
            let messages: [String]
            if case .configuration(let problems) = error {
                messages = problems.problems.map(\.description)
            } else {
                messages = ["\(error)"]
            }
            await engine.noteReload(applied: false, messages: messages)
        }
    }
}

extension NetHealAgentService {
    /// Runs one agent in a `ServiceGroup` until SIGTERM or SIGINT (graceful shutdown). Logs go to
    /// standard error (the journal under systemd); call once per process.
    public static func runUntilSignalled(options: AgentOptions) async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var options = options
        options.logger = Logger(label: "netheal")
        options.requireInterface = true
        options.trimResidentSet = true
        options.runOnEventLoop = true
        let group = ServiceGroup(
            services: [NetHealAgentService(options: options)], gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [], logger: options.logger)
        try await group.run()
    }
}
