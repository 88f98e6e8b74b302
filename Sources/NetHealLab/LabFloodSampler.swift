import Foundation

/// What `LabFloodSampler` saw during one flood phase.
struct LabFloodSamples: Sendable {
    /// Seconds each `status` call of the victim took (control socket, every 100 ms).
    var latencies: [Double] = []
    /// Status calls that failed (no answer, bad answer), with the reason.
    var failures: [String] = []
    /// Wrong decisions seen: a node (other than the wedged one) not `healthy`, or a new heal.
    var decisionProblems: [String] = []
    /// The victim agent's VmRSS in kB, once a second.
    var victimRSS: [Int] = []
    /// The victim agent's CPU over the phase, % of one core.
    var victimCPUPercent: Double = 0
}

/// Samples the fleet during a flood phase on a thread of its own: the victim's `status` every
/// 100 ms through its control socket (timed), every other agent's once a second (decision and heal
/// count), the victim's RSS and CPU once a second, and a progress line in the timeline every 10 s.
final class LabFloodSampler: @unchecked Sendable {
    private let fleet: LabFleet
    private let victim: LabNode
    private let wedged: LabNode
    private let lock = NSLock()
    private var samples = LabFloodSamples()
    private let done = DispatchSemaphore(value: 0)

    init(fleet: LabFleet, victim: LabNode, wedged: LabNode) {
        self.fleet = fleet
        self.victim = victim
        self.wedged = wedged
    }

    /// Starts sampling until `end`.
    func start(until end: Date) {
        let thread = Thread { [self] in
            run(until: end)
            done.signal()
        }
        thread.name = "lab-flood-sampler"
        thread.start()
    }

    /// Waits for the end of the phase; the samples.
    func finish() -> LabFloodSamples {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return samples
    }

    private func record(_ change: (inout LabFloodSamples) -> Void) {
        lock.lock()
        change(&samples)
        lock.unlock()
    }

    private func run(until end: Date) {
        let start = Date()
        var heals: [String: Int] = [:]
        var tick = 0
        let firstUsage = fleet.agent(victim)?.usage()
        var lastUsage = firstUsage
        while Date() < end {
            let due = start.addingTimeInterval(Double(tick) * 0.1)
            if due > Date() { Thread.sleep(until: due) }
            let nodes = tick % 10 == 0 ? fleet.nodes : [victim]
            for node in nodes where node != wedged {
                do {
                    let answer = try LabSockets.status(controlSocket: fleet.files.controlSocket(node))
                    if node == victim { record { $0.latencies.append(answer.seconds) } }
                    let status = AgentStatus(object: answer.status)
                    let seenHeals = heals[node.name] ?? status.healCount
                    heals[node.name] = seenHeals
                    if status.state != "healthy" || status.healCount != seenHeals {
                        let at = String(format: "+%.1f s", Date().timeIntervalSince(start))
                        let problem = "\(node.name) \(at): \(status.summary), heals \(status.healCount)"
                        record { $0.decisionProblems.append(problem) }
                        fleet.timeline.record(.agentState, node.name, "during the flood: " + status.summary)
                    }
                } catch {
                    if node == victim { record { $0.failures.append("\(error)") } }
                    record { $0.decisionProblems.append("\(node.name): status failed: \(error)") }
                }
            }
            if tick % 10 == 0, let usage = fleet.agent(victim)?.usage() {
                record { $0.victimRSS.append(usage.rssKB) }
                lastUsage = usage
            }
            if tick > 0 && tick % 100 == 0 {
                lock.lock()
                let latencies = samples.latencies.suffix(100).sorted()
                let rss = samples.victimRSS.last ?? 0
                lock.unlock()
                fleet.timeline.record(
                    .lab, victim.name,
                    String(
                        format: "flood +%.0f s: status p99 of the last 10 s %.1f ms, RSS %d kB", Double(tick) / 10,
                        LabScenarios.quantile(latencies, 0.99) * 1000, rss))
            }
            tick += 1
        }
        if let first = firstUsage, let last = lastUsage, last.at > first.at {
            let percent = 100 * (last.cpuSeconds - first.cpuSeconds) / last.at.timeIntervalSince(first.at)
            record { $0.victimCPUPercent = percent }
        }
    }
}
