import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension LabScenarios {
    /// The victim of `hostile-flood`, and the node wedged during each phase.
    static let floodVictim = "n1"
    static let floodWedged = ["garbage": "n3", "replay": "n4"]
    /// `WATCHDOG_USEC` the lab gives every agent in `hostile-flood`: 2 s, so `WATCHDOG=1` is due every 1 s.
    public static let floodWatchdogMicroseconds = 2_000_000

    /// Issue 7 §2 over the lab network: an attacker host on the LAN floods n1's gossip port with
    /// seeded garbage, then with genuine datagrams captured on the wire to n1 (already accepted by
    /// it), each phase `floodSeconds` at `floodRate`; during each a wedge on another node must heal.
    public static let hostileFlood = LabScenario(
        name: "hostile-flood",
        summary:
            "an attacker on the LAN floods n1 with garbage, then with captured genuine datagrams (50,000/s, 60 s each); "
            + "a wedge on n3 / n4 heals meanwhile, status < 100 ms, watchdog fires, memory bounded",
        needsAgents: true, attacker: true
    ) { run, settings in
        let fleet = run.fleet
        var listeners: [String: LabNotifyListener] = [:]
        defer { for listener in listeners.values { listener.stop() } }
        for node in fleet.nodes {
            try FileManager.default.createDirectory(
                atPath: fleet.files.nodeDirectory(node), withIntermediateDirectories: true)
            let listener = try LabNotifyListener(path: fleet.files.nodeDirectory(node) + "/notify.sock")
            listeners[node.name] = listener
            fleet.setAgentEnvironment(
                node, ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "\(floodWatchdogMicroseconds)"])
        }
        try run.startAgents(binary: settings.binary)
        let missingReady = fleet.nodes.filter { listeners[$0.name]?.readyAt == nil }.map(\.name)
        run.check(
            missingReady.isEmpty,
            "every agent sent READY=1 on its notify socket"
                + (missingReady.isEmpty ? "" : " — not: \(missingReady.joined(separator: ", "))"))
        let victim = try run.node(floodVictim)
        fleet.timeline.record(
            .lab, victim.name, "capturing gossip to \(victim.name) for 5 s on its switch port \(victim.switchPort)")
        let genuine = try LabFlood.capture(fleet, to: victim, seconds: 5)
        run.check(genuine.count >= 4, "captured \(genuine.count) distinct genuine datagrams to \(victim.name) (≥ 4)")
        guard genuine.count >= 4 else { return }
        let fd = try LabSockets.connectedUDP(
            in: fleet.topology.attackerNamespace, to: victim.address, port: LabTopology.gossipPort)
        defer { close(fd) }
        let start = Date()
        let pools = [("garbage", LabFlood.garbage(genuine: genuine)), ("replay", genuine)]
        for (phase, pool) in pools {
            try floodPhase(
                run, settings, phase: phase, pool: pool, fd: fd, victim: victim,
                wedged: try run.node(floodWedged[phase]!), listeners: listeners)
            try run.sleep(10)
        }
        for name in floodWedged.values.sorted() {
            let cycles = fleet.cycles(node: name, since: start)
            run.check(cycles == 1, "\(name) (wedged once) cycled exactly once (\(cycles))")
        }
        run.checkNoCycles(
            fleet.nodes.map(\.name).filter { !floodWedged.values.contains($0) }, since: start,
            "no node other than the wedged ones cycled during or after the floods")
        run.checkInterfacesIntact()
    }

    /// One flood phase: sender, status sampler and the wedge run together; then checks and figures.
    static func floodPhase(
        _ run: LabScenarioRun, _ settings: LabScenarioSettings, phase: String, pool: [[UInt8]], fd: Int32,
        victim: LabNode, wedged: LabNode, listeners: [String: LabNotifyListener]
    ) throws {
        let fleet = run.fleet
        let seconds = settings.floodSeconds
        let before = try LabSockets.status(controlSocket: fleet.files.controlSocket(victim)).status
        let kernelBefore = udpCounters(fleet, victim)
        let sampler = LabFloodSampler(fleet: fleet, victim: victim, wedged: wedged)
        fleet.timeline.record(
            .lab, victim.name,
            "flood \(phase): \(pool.count) distinct datagrams from \(LabTopology.attackerAddress) to "
                + "\(victim.address):\(LabTopology.gossipPort), \(Int(settings.floodRate))/s for \(Int(seconds)) s")
        let floodStart = Date()
        let sent = FloodBox()
        let senderDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            sent.value = LabFlood.send(fd: fd, pool: pool, rate: settings.floodRate, seconds: seconds)
            senderDone.signal()
        }
        sampler.start(until: floodStart.addingTimeInterval(seconds))
        // The wedge goes in once the flood runs at full rate; healing it is the decision loop's proof.
        try run.sleep(min(10, seconds / 6))
        let outcome = try run.wedgeAndMeasure(wedged.name)
        let floodEnd = floodStart.addingTimeInterval(seconds)
        let cycledAt = fleet.timeline.events(.linkDown, node: wedged.name, since: floodStart).first?.time
        while Date() < floodEnd { try run.sleep(min(1, max(0.05, floodEnd.timeIntervalSinceNow))) }
        senderDone.wait()
        let samples = sampler.finish()
        let result = sent.value ?? LabFloodResult()
        let after = try LabSockets.status(controlSocket: fleet.files.controlSocket(victim)).status
        let kernelAfter = udpCounters(fleet, victim)
        fleet.timeline.record(
            .lab, victim.name,
            "flood \(phase) ended: \(result.sent) sent (\(Int(result.rate))/s, slowest second \(result.slowestSecond))")

        func counter(_ status: [String: Any], _ key: String) -> Int { AgentStatus(object: status).counters[key] ?? 0 }
        let read = counter(after, "datagramsReceived") - counter(before, "datagramsReceived")
        let drops = counter(after, "transportDrops") - counter(before, "transportDrops")
        let accepted = counter(after, "viewsAccepted") - counter(before, "viewsAccepted")
        let rejectedBefore = AgentStatus(object: before).counters.filter { $0.key.hasPrefix("rejected.") }
        let rejectedByReason = AgentStatus(object: after).counters.filter { $0.key.hasPrefix("rejected.") }
            .map { ($0.key.dropFirst("rejected.".count), $0.value - (rejectedBefore[$0.key] ?? 0)) }
            .filter { $0.1 > 0 }.sorted { $0.0 < $1.0 }
        let rejected = rejectedByReason.reduce(0) { $0 + $1.1 }
        let latencies = samples.latencies.sorted()
        let p50 = quantile(latencies, 0.5) * 1000
        let p99 = quantile(latencies, 0.99) * 1000
        let maxLatency = (latencies.last ?? 0) * 1000
        let watchdogLimit = Double(floodWatchdogMicroseconds) / 1e6
        let gaps = fleet.nodes.map { ($0.name, listeners[$0.name]?.maxGap(from: floodStart, to: floodEnd) ?? .infinity) }
        let victimGap = gaps.first { $0.0 == victim.name }?.1 ?? .infinity
        let beats = listeners[victim.name]?.beats(from: floodStart, to: floodEnd).count ?? 0
        let rss = samples.victimRSS
        let rssStart = rss.first ?? 0
        let rssMax = rss.max() ?? 0
        let rssEnd = rss.last ?? 0
        let kernelDrops = (kernelAfter["RcvbufErrors"] ?? 0) - (kernelBefore["RcvbufErrors"] ?? 0)
        let f = { (value: Double) in String(format: "%.1f", value) }

        let name = "flood \(phase)"
        run.figures.note(
            name,
            "\(Int(seconds)) s at \(Int(settings.floodRate))/s target: sent \(result.sent) (\(Int(result.rate))/s, "
                + "slowest second \(result.slowestSecond)), refused by the sender's kernel \(result.refused)")
        run.figures.note(
            name,
            "\(victim.name) read \(read) (\(Int(Double(read) / seconds))/s), receive-buffer drops in its kernel "
                + "\(kernelDrops), dropped before decoding (rate limits) \(drops), decoded and rejected \(rejected) "
                + "(\(rejectedByReason.map { "\($0.0) \($0.1)" }.joined(separator: ", "))), views accepted \(accepted)")
        run.figures.note(
            name,
            "status of \(victim.name) (control socket, every 100 ms): \(latencies.count) calls, \(samples.failures.count) "
                + "failed; p50 \(f(p50)) ms, p99 \(f(p99)) ms, max \(f(maxLatency)) ms")
        run.figures.note(
            name,
            "WATCHDOG=1 of \(victim.name): \(beats)×, max gap \(String(format: "%.2f", victimGap)) s "
                + "(WATCHDOG_USEC \(floodWatchdogMicroseconds)); every agent's max gap "
                + gaps.map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", "))
        run.figures.note(
            name,
            "RSS of \(victim.name): start \(rssStart / 1024) MB, max \(rssMax / 1024) MB, end \(rssEnd / 1024) MB "
                + "(\(rssStart) / \(rssMax) / \(rssEnd) kB); CPU \(Int(samples.victimCPUPercent)) % of a core")
        run.figures.note(
            name,
            "wedge of \(wedged.name): " + (cycledAt.map {
                "cycled \(String(format: "%.1f", $0.timeIntervalSince(floodStart))) s into the flood" } ?? "not cycled")
                + (outcome.healed ? ", restored and seen by every peer" : ", NOT healed"))

        let minimumRate = 0.9 * settings.floodRate
        run.check(
            result.rate >= minimumRate,
            "\(phase): the attacker sent \(Int(result.rate))/s (≥ \(Int(minimumRate))/s) for \(Int(seconds)) s")
        run.check(read > 0 && drops + rejected > 0, "\(phase): the flood reached \(victim.name)'s agent (\(read) read)")
        run.check(
            latencies.count >= Int(seconds * 5) && samples.failures.isEmpty,
            "\(phase): every status call of \(victim.name) answered (\(latencies.count) calls"
                + (samples.failures.isEmpty ? ")" : "; \(samples.failures.prefix(3))"))
        run.check(p99 < 100, "\(phase): status p99 \(f(p99)) ms < 100 ms")
        run.check(
            gaps.allSatisfy { $0.1 < watchdogLimit },
            "\(phase): every agent's WATCHDOG=1 kept coming (max gap \(String(format: "%.2f", gaps.map(\.1).max() ?? 0)) s "
                + "< WATCHDOG_USEC \(String(format: "%.1f", watchdogLimit)) s)")
        run.check(
            rssMax - rssStart < 32 * 1024,
            "\(phase): \(victim.name)'s memory stayed bounded (RSS +\(rssMax - rssStart) kB < 32 MB)")
        run.check(
            samples.decisionProblems.isEmpty,
            "\(phase): every agent's decision stayed right (healthy, no heal; the wedged node excepted)"
                + (samples.decisionProblems.isEmpty ? "" : " — \(samples.decisionProblems.prefix(3))"))
        run.check(
            cycledAt.map { $0 < floodEnd } == true && outcome.healed,
            "\(phase): the wedge of \(wedged.name) was cycled during the flood and healed")
        // The source's token bucket (burst 400, 200/s) bounds what reaches the decoder.
        run.check(
            Double(rejected) <= 400 + 200 * seconds * 1.5,
            "\(phase): at most the source's rate-limit budget reached the decoder (\(rejected) rejected)")
        run.check(accepted > 0, "\(phase): genuine gossip went on (\(accepted) views accepted by \(victim.name))")
        if phase == "replay" {
            let replayed = rejectedByReason.first { $0.0 == "replayed" }?.1 ?? 0
            run.check(
                replayed > 0 && replayed == rejected,
                "replay: every replayed datagram that reached the decoder was rejected as `replayed` (\(replayed))")
        }
    }

    /// `Udp:` counters of `/proc/net/snmp` in a node's namespace (InDatagrams, RcvbufErrors, …).
    static func udpCounters(_ fleet: LabFleet, _ node: LabNode) -> [String: Int] {
        let text = (try? fleet.runner.run(in: node.namespace, ["cat", "/proc/net/snmp"])) ?? ""
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp:") }
        guard lines.count >= 2 else { return [:] }
        let names = lines[0].split(separator: " ").dropFirst()
        let values = lines[1].split(separator: " ").dropFirst().map { Int($0) ?? 0 }
        return Dictionary(zip(names.map(String.init), values), uniquingKeysWith: { $1 })
    }

    /// The `q` quantile (nearest rank) of sorted `values`; 0 when empty.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

/// The flood sender's result, handed from its thread (written before a semaphore signal).
private final class FloodBox: @unchecked Sendable {
    var value: LabFloodResult?
}
