import Foundation

/// The lab's scenarios (issue 6), each a script against a fresh 5-node fleet.
public enum LabScenarios {
    /// Every scenario, in the order `lab scenario all` runs them.
    public static let all: [LabScenario] = [
        wedge, upstreamOutage, partition, wedgeDuringOutage, loss, killMidHeal, rackUplink, wedgeSeries,
        naiveUpstreamOutage, hostileFlood,
    ]

    /// The scenario named `name`.
    public static func named(_ name: String) throws -> LabScenario {
        guard let scenario = all.first(where: { $0.name == name }) else {
            throw LabError("no scenario `\(name)` — scenarios: \(all.map(\.name).joined(separator: ", "))")
        }
        return scenario
    }

    /// A wedged NIC on one node is healed: its interface really cycled, connectivity restored; no other node cycles.
    public static let wedge = LabScenario(
        name: "wedge", summary: "n1's address is flushed (lost lease): n1 alone cycles and reaches upstream again",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        try run.wedgeAndMeasure("n1")
        try run.sleep(10)
        run.checkNoCycles(["n2", "n3", "n4", "n5"], since: start, "no other node cycled")
        run.check(
            run.fleet.cycles(node: "n1", since: start) == 1,
            "n1 cycled exactly once (\(run.fleet.cycles(node: "n1", since: start)))")
        run.checkInterfacesIntact()
    }

    /// A 60 s upstream outage causes zero cycles; the naive loop in the same lab cycles every node.
    public static let upstreamOutage = LabScenario(
        name: "upstream-outage",
        summary: "the router goes dark for 60 s (gateway and stand-in): zero cycles; then the naive loop, same outage",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let outage = try run.fleet.inject(.upstreamOutage)
        try run.sleep(settings.faultSeconds)
        run.fleet.lift(outage)
        try run.sleep(10)
        let netheal = run.fleet.cycles(since: start)
        run.figures.count("cycles during \(Int(settings.faultSeconds)) s outage, netheal agents", netheal)
        run.check(netheal == 0, "zero interface cycles anywhere during and after the outage (\(netheal))")
        run.checkInterfacesIntact()
        guard settings.compareNaive else { return }
        let naive = try naivePhase(run, settings)
        run.figures.count("cycles during \(Int(settings.faultSeconds)) s outage, naive seed loop", naive)
        run.check(
            naive >= run.fleet.nodes.count, "the naive loop, same lab, same outage, cycled every node (\(naive) cycles)"
        )
    }

    /// The naive seed loop on every node (agents stopped) through the same upstream outage; returns its cycles.
    static func naivePhase(_ run: LabScenarioRun, _ settings: LabScenarioSettings) throws -> Int {
        run.finish()  // the agents' figures end here
        run.fleet.stopAgents()
        try run.fleet.startNaiveLoops(interval: settings.naiveInterval)
        try run.sleep(3)
        let start = Date()
        let outage = try run.fleet.inject(.upstreamOutage)
        try run.sleep(settings.faultSeconds)
        run.fleet.lift(outage)
        // A ping sent just before the lift still times out (-W2) and still cycles: count those too.
        try run.sleep(3)
        let cycles = run.fleet.cycles(since: start)
        run.fleet.stopNaiveLoops()
        return cycles
    }

    /// A 3|2 partition with upstream reachable from both sides causes zero cycles.
    public static let partition = LabScenario(
        name: "partition",
        summary: "partition {n1,n2,n3} | {n4,n5} with upstream reachable from both sides: zero cycles",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let cut = try run.fleet.inject(.partition(a: ["n1", "n2", "n3"], b: ["n4", "n5"]))
        try run.sleep(settings.faultSeconds)
        run.check(
            run.fleet.nodes.allSatisfy { run.fleet.ping(from: $0, to: LabTopology.standIn) },
            "upstream reachable from both sides during the partition")
        run.fleet.lift(cut)
        try run.sleep(10)
        run.checkNoCycles(since: start, "zero interface cycles during and after the partition")
        run.checkInterfacesIntact()
    }

    /// A wedge during an upstream outage heals only the wedged node.
    public static let wedgeDuringOutage = LabScenario(
        name: "wedge-during-outage", summary: "upstream outage, then n2 is wedged: n2 alone cycles", needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let outage = try run.fleet.inject(.upstreamOutage)
        try run.sleep(10)
        let n2 = try run.node("n2")
        let wedge = try run.fleet.inject(.wedge(node: "n2", kind: .flush))
        let cycled = try run.waitUntil(timeout: 45) { run.fleet.cycles(node: "n2", since: wedge.injectedAt) > 0 }
        if let down = run.fleet.timeline.events(.linkDown, node: "n2", since: wedge.injectedAt).first {
            run.figures.add("fault→cycle", down.time.timeIntervalSince(wedge.injectedAt))
        }
        run.check(cycled != nil, "n2's interface was really cycled during the outage")
        try run.sleep(max(0, settings.faultSeconds - Date().timeIntervalSince(start)))
        run.fleet.lift(outage)
        let restored = try run.waitUntil(timeout: 20, poll: 0.5) { run.fleet.ping(from: n2, to: LabTopology.standIn) }
        run.check(restored != nil, "n2 reaches upstream once the outage ends")
        _ = try run.peersSee("n2", timeout: 30)
        run.checkNoCycles(["n1", "n3", "n4", "n5"], since: start, "no other node cycled")
        run.checkInterfacesIntact()
    }

    /// 30 % random loss with no fault causes zero cycles.
    public static let loss = LabScenario(
        name: "loss", summary: "30% random loss into every node for 60 s, no fault: zero cycles", needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let loss = try run.fleet.inject(.loss(percent: 30, nodes: run.fleet.nodes.map(\.name)))
        try run.sleep(settings.faultSeconds)
        run.fleet.lift(loss)
        try run.sleep(5)
        run.checkNoCycles(since: start, "zero interface cycles under 30% loss")
        run.checkInterfacesIntact()
    }

    /// An agent killed in the middle of a heal leaves no interface down: the restarted agent completes it.
    public static let killMidHeal = LabScenario(
        name: "kill-mid-heal",
        summary: "n1 wedged; its agent is killed (-9) the moment the interface goes down; restarted, it brings it back",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let n1 = try run.node("n1")
        // ifdown takes 2 s more after the link went down (a slow release): the kill lands between down and up.
        try run.fleet.slowIfdown(n1, seconds: 2)
        let agentPid = run.fleet.agent(n1)?.pid ?? 0
        let killedAt = KillStamp()
        try run.fleet.onNextLinkDown(n1) { _ in
            kill(agentPid, SIGKILL)
            killedAt.set(Date())
            run.fleet.timeline.record(
                .lab, "n1", "kill -9 of n1's agent (pid \(agentPid)): its heal just took the interface down")
        }
        let wedge = try run.fleet.inject(.wedge(node: "n1", kind: .flush))
        let down = try run.waitUntil(timeout: 45, poll: 0.05) { killedAt.get() != nil }
        run.check(down != nil, "n1's agent started a heal (the interface went down) and was killed -9 at that moment")
        guard down != nil else { return }
        run.fleet.stopAgent(n1, signal: SIGKILL)
        try run.sleep(3)
        let state = run.fleet.interfaceState(n1)
        run.check(
            !(state.up && state.address && state.defaultRoute),
            "the kill left n1's interface broken (down, or without address/route)")
        run.fleet.timeline.record(
            .lab, "n1",
            "3 s after the kill: link \(state.up ? "up" : "down"), address \(state.address ? "present" : "missing"), default route \(state.defaultRoute ? "present" : "missing")"
        )
        let restart = Date()
        try run.fleet.startAgent(n1)
        let intact = try run.waitUntil(timeout: 30, poll: 0.2) {
            let s = run.fleet.interfaceState(n1)
            return s.up && s.address && s.defaultRoute
        }
        if let intact { run.figures.add("restart→interface restored", intact.timeIntervalSince(restart)) }
        run.check(intact != nil, "after the restart n1's interface is up with its address and default route")
        let reach = try run.waitUntil(timeout: 20, poll: 0.5) { run.fleet.ping(from: n1, to: LabTopology.standIn) }
        run.check(reach != nil, "n1 reaches upstream again")
        _ = try run.peersSee("n1", timeout: 30)
        run.checkNoCycles(["n2", "n3", "n4", "n5"], since: start, "no other node cycled")
        run.checkInterfacesIntact()
    }

    /// A rack uplink failure (n1, n2 cut off from the router) causes zero cycles: peers still reach them.
    public static let rackUplink = LabScenario(
        name: "rack-uplink", summary: "the router drops n1 and n2 (their rack uplink) for 60 s: zero cycles",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        let cut = try run.fleet.inject(.rackUplink(nodes: ["n1", "n2"]))
        try run.sleep(settings.faultSeconds)
        run.fleet.lift(cut)
        try run.sleep(5)
        run.checkNoCycles(since: start, "zero interface cycles during the rack uplink failure")
        run.checkInterfacesIntact()
    }

    /// Every node wedged in turn (one at a time): medians of fault→cycle, fault→restored, fault→peers.
    public static let wedgeSeries = LabScenario(
        name: "wedge-series",
        summary: "each node in turn has its address flushed: each heals once, medians of the heal figures",
        needsAgents: true
    ) { run, settings in
        try run.startAgents(binary: settings.binary)
        let start = Date()
        for node in run.fleet.nodes {
            let before = Date()
            try run.wedgeAndMeasure(node.name)
            try run.sleep(5)
            let others = run.fleet.nodes.filter { $0.name != node.name }.map(\.name)
            run.checkNoCycles(others, since: before, "while \(node.name) was wedged no other node cycled")
        }
        let counts = run.fleet.nodes.map { run.fleet.cycles(node: $0.name, since: start) }
        run.check(
            counts.allSatisfy { $0 == 1 },
            "every node cycled exactly once (\(counts.map(String.init).joined(separator: " ")))")
        run.checkInterfacesIntact()
    }

    /// The naive seed loop alone through an upstream outage (no agents needed).
    public static let naiveUpstreamOutage = LabScenario(
        name: "naive-upstream-outage",
        summary: "the seed script's loop on every node through a 60 s upstream outage: count its cycles",
        needsAgents: false
    ) { run, settings in
        let cycles = try naivePhase(run, settings)
        run.figures.count("cycles during \(Int(settings.faultSeconds)) s outage, naive seed loop", cycles)
        run.check(cycles >= run.fleet.nodes.count, "the naive loop cycled every node at least once (\(cycles) cycles)")
        run.checkInterfacesIntact()
    }
}

/// A time set once from a watcher thread.
final class KillStamp: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date?
    func set(_ date: Date) {
        lock.lock()
        value = date
        lock.unlock()
    }
    func get() -> Date? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
