import Foundation

/// The README's main job: a 5-node fleet of real agents rides out an upstream outage without
/// cycling anything, then heals one wedged interface — and `status` shows why.
public enum LabDemo {
    /// Runs the demo, printing as it goes. Returns true when everything happened as announced.
    public static func run(binary: LabAgentBinary, outageSeconds: Double = 20, options: LabOptions = LabOptions())
        throws -> Bool
    {
        let say = labSay
        try binary.requireAgent()
        let fleet = try LabFleet(options: options)
        say("\n== 1. A fleet of \(options.nodes) nodes in network namespaces")
        say(
            "   LAN 198.18.0.0/24 on a bridge, router \(LabTopology.gateway) (gateway) with the stand-in upstream target"
        )
        say("   \(LabTopology.standIn) (in place of 1.1.1.1); each node's eth0 is configured by ifupdown.\n")
        try fleet.up()
        defer {
            say("\n== 5. Cleaning up")
            fleet.down()
            say("   namespaces and /etc/netns entries removed; logs kept in \(fleet.files.runDirectory)")
        }
        let run = LabScenarioRun(fleet: fleet, name: "demo")
        defer { run.finish() }
        say("\n== 2. One real agent per node (own Ed25519 key, UDP gossip), waiting until all are healthy")
        try run.startAgents(binary: binary)
        let n1 = try run.node("n1")
        say("\n$ netheal-cluster status   (on n1)")
        say(fleet.statusText(n1))

        say("== 3. Upstream outage: the router stops answering (gateway and stand-in) for \(Int(outageSeconds)) s")
        say(
            "   Every node's probes fail. The naive loop (ping || ifdown; ifup) would cycle all \(fleet.nodes.count) interfaces now.\n"
        )
        let outageStart = Date()
        let outage = try fleet.inject(.upstreamOutage)
        try run.sleep(outageSeconds)
        say("\n$ netheal-cluster status   (on n1, during the outage)")
        say(fleet.statusText(n1))
        fleet.lift(outage)
        let outageCycles = fleet.cycles(since: outageStart)
        run.check(outageCycles == 0, "upstream outage: \(outageCycles) interfaces cycled")
        say(
            outageCycles == 0
                ? ">> Nothing cycled: \(fleet.nodes.count)/\(fleet.nodes.count) agents saw the upstream fail together and held."
                : ">> UNEXPECTED: \(outageCycles) interface cycle(s) during the outage (see the timeline above).")
        _ = try run.waitUntil(timeout: 30, poll: 1) { fleet.nodes.allSatisfy { fleet.status($0)?.state == "healthy" } }

        say("\n== 4. n3's interface is wedged: its address is flushed (a lost DHCP lease)")
        say("   n3's probes fail AND its peers stop hearing it: only n3 should cycle its interface.\n")
        let wedgeStart = Date()
        let healed = try run.wedgeAndMeasure("n3")
        try run.sleep(3)
        let others = fleet.nodes.filter { $0.name != "n3" }.map(\.name)
        let otherCycles = others.map { fleet.cycles(node: $0, since: wedgeStart) }.reduce(0, +)
        run.check(otherCycles == 0, "no other node cycled (\(otherCycles))")
        say("\n$ netheal-cluster status   (on n3, after the heal)")
        say(fleet.statusText(try run.node("n3")))
        let toCycle = run.figures.values("fault→cycle").first.map { String(format: "%.1f s", $0) } ?? "-"
        let toRestored = run.figures.values("fault→restored").first.map { String(format: "%.1f s", $0) } ?? "-"
        if let why = fleet.status(try run.node("n3"))?.lastHeal { say(">> why n3 cycled its interface: \(why)") }
        let toPeers =
            run.figures.values("fault→peers see it reachable").first.map { String(format: "%.1f s", $0) } ?? "-"
        if healed.healed {
            say(
                ">> n3 healed itself: interface cycled \(toCycle) after the fault, upstream reachable again after \(toRestored),"
                    + " every peer hears it again after \(toPeers); no other node cycled.")
        } else if healed.cycled && healed.restored {
            say(
                ">> UNEXPECTED: n3 cycled its interface (\(toCycle)) and reaches upstream again (\(toRestored)),"
                    + " but its peers still do not hear it: its gossip did not resume after the heal.")
        } else {
            say(
                ">> UNEXPECTED: n3 was not healed (cycled: \(healed.cycled), upstream again: \(healed.restored)); see the timeline above."
            )
        }
        run.finish()
        say("\n-- figures")
        say(run.figures.rendered())
        let ok = run.checks.allSatisfy(\.passed)
        say(
            ok
                ? "demo: everything happened as announced"
                : "demo: FAILED — see the timeline and \(fleet.files.runDirectory)")
        return ok
    }
}
