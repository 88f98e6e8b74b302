import Foundation

/// One assertion of a scenario.
public struct LabCheck: Sendable, Hashable {
    /// What was checked, e.g. "no other node cycled".
    public var text: String
    /// Whether it held.
    public var passed: Bool
}

/// A running scenario: the fleet, its checks and its figures. Scenario bodies are scripts against it.
public final class LabScenarioRun: @unchecked Sendable {
    /// The fleet the scenario runs on.
    public let fleet: LabFleet
    /// The scenario's name.
    public let name: String
    /// The measured figures.
    public let figures = LabFigures()
    private let lock = NSLock()
    private var checkList: [LabCheck] = []
    private var sampler: LabSampler?

    init(fleet: LabFleet, name: String) {
        self.fleet = fleet
        self.name = name
    }

    /// The checks so far.
    public var checks: [LabCheck] {
        lock.lock()
        defer { lock.unlock() }
        return checkList
    }

    /// Records an assertion; a failed one fails the scenario (which still runs to the end).
    public func check(_ condition: Bool, _ text: String) {
        lock.lock()
        checkList.append(LabCheck(text: text, passed: condition))
        lock.unlock()
        fleet.timeline.record(.check, nil, (condition ? "PASS " : "FAIL ") + text)
    }

    /// The node named `name` (scenarios use fixed names).
    public func node(_ name: String) throws -> LabNode { try fleet.topology.node(name) }

    /// Sleeps, failing early when an agent has died on its own.
    public func sleep(_ seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: min(0.25, max(0, deadline.timeIntervalSinceNow)))
            try checkAgentsAlive()
        }
    }

    /// Polls `condition` every `poll` seconds until it holds (returns the time) or `timeout` passes (nil).
    public func waitUntil(timeout: Double, poll: Double = 0.25, _ condition: () -> Bool) throws -> Date? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if condition() { return Date() }
            if Date() > deadline { return nil }
            try checkAgentsAlive()
            Thread.sleep(forTimeInterval: poll)
        }
    }

    /// Throws when an agent the lab started has exited by itself (a crash is never a pass).
    func checkAgentsAlive() throws {
        if let dead = fleet.deadAgents().first {
            throw LabError("the agent of \(dead.node) exited on its own (\(dead.how)); its log ends with:\n\(dead.log)")
        }
    }

    // MARK: - Agents and measurement

    /// Writes the configuration, starts every agent, starts sampling, and waits until every agent
    /// reports `healthy` (or `warmUp` seconds when status does not answer).
    public func startAgents(binary: LabAgentBinary, warmUp: Double = 30) throws {
        try binary.requireAgent()
        try fleet.writeConfiguration(binary: binary)
        try fleet.startAgents()
        let sampler = LabSampler(fleet: fleet, figures: figures)
        lock.lock()
        self.sampler = sampler
        lock.unlock()
        sampler.start()
        let healthy = try waitUntil(timeout: warmUp, poll: 1) {
            fleet.nodes.allSatisfy { fleet.status($0)?.state == "healthy" }
        }
        if healthy == nil {
            let states = fleet.nodes.map { "\($0.name)=\(fleet.status($0)?.state ?? "no answer")" }.joined(
                separator: " ")
            throw LabError("agents not all healthy after \(Int(warmUp)) s: \(states)")
        }
        fleet.timeline.record(.lab, nil, "every agent reports healthy")
        sampler.markMeasurementStart()
    }

    /// Stops sampling (figures are final afterwards).
    func finish() {
        lock.lock()
        let sampler = self.sampler
        self.sampler = nil
        lock.unlock()
        sampler?.stop()
    }

    // MARK: - Fault helpers

    /// Injects a wedge and measures fault→cycle, fault→restored (own pings of the stand-in from the
    /// node) and fault→peers see it reachable (their `status`), each within `timeout`.
    @discardableResult
    public func wedgeAndMeasure(_ name: String, kind: LabFault.WedgeKind = .flush, timeout: Double = 45) throws
        -> WedgeOutcome
    {
        let node = try self.node(name)
        let handle = try fleet.inject(.wedge(node: name, kind: kind))
        let cycled = try waitUntil(timeout: timeout) {
            !fleet.timeline.events(.linkDown, node: name, since: handle.injectedAt).isEmpty
        }
        if let down = fleet.timeline.events(.linkDown, node: name, since: handle.injectedAt).first {
            figures.add("fault→cycle", down.time.timeIntervalSince(handle.injectedAt))
        }
        let restored = try waitUntil(timeout: timeout, poll: 0.2) { fleet.ping(from: node, to: LabTopology.standIn) }
        if let restored {
            figures.add("fault→restored", restored.timeIntervalSince(handle.injectedAt))
            fleet.timeline.record(.connectivity, name, "\(name) reaches \(LabTopology.standIn) again")
        }
        check(cycled != nil, "\(name)'s interface was really cycled (link watcher saw it go down)")
        check(restored != nil, "\(name)'s connectivity is restored (ping \(LabTopology.standIn) from \(name))")
        let seen = try peersSee(name, timeout: timeout)
        if let seen { figures.add("fault→peers see it reachable", seen.timeIntervalSince(handle.injectedAt)) }
        return WedgeOutcome(cycled: cycled != nil, restored: restored != nil, peersSeeIt: seen != nil)
    }

    /// Waits until every other agent's status shows `name` reachable again; checks and returns when.
    public func peersSee(_ name: String, timeout: Double) throws -> Date? {
        let peers = fleet.nodes.filter { $0.name != name && fleet.agent($0) != nil }
        let seen = try waitUntil(timeout: timeout, poll: 0.5) {
            peers.allSatisfy { fleet.status($0)?.reach[name] == "reachable" }
        }
        if seen != nil { fleet.timeline.record(.agentState, name, "every peer's status shows \(name) reachable again") }
        let lagging = peers.filter { fleet.status($0)?.reach[name] != "reachable" }.map(\.name)
        check(
            seen != nil,
            "every peer sees \(name) reachable again (status: members[\(name)].reach)"
                + (lagging.isEmpty ? "" : " — not: \(lagging.joined(separator: ", "))"))
        return seen
    }

    /// Checks that no node in `nodes` (default: all) cycled since `since`.
    public func checkNoCycles(_ nodes: [String]? = nil, since: Date, _ what: String) {
        let names = nodes ?? fleet.nodes.map(\.name)
        let cycled = names.filter { fleet.cycles(node: $0, since: since) > 0 }
        check(cycled.isEmpty, what + (cycled.isEmpty ? "" : " — cycled: \(cycled.joined(separator: ", "))"))
    }

    /// Checks every node's managed interface is up with its address and default route.
    public func checkInterfacesIntact() {
        let broken = fleet.nodes.filter {
            let s = fleet.interfaceState($0)
            return !(s.up && s.address && s.defaultRoute)
        }
        check(
            broken.isEmpty,
            "every managed interface is up with its address and default route"
                + (broken.isEmpty ? "" : " — not: \(broken.map(\.name).joined(separator: ", "))"))
    }
}

/// What became of a wedged node.
public struct WedgeOutcome: Sendable, Hashable {
    /// Its interface went down (and up).
    public var cycled: Bool
    /// It reached the stand-in again.
    public var restored: Bool
    /// Every peer's status listed it reachable again.
    public var peersSeeIt: Bool
    /// All three.
    public var healed: Bool { cycled && restored && peersSeeIt }
}
