import Foundation

/// The figures a scenario measured: named durations and counts, and per-node resource use.
public final class LabFigures: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [(String, Double)] = []
    private var counts: [(String, Int)] = []
    private var notes: [(String, String)] = []
    /// Per node: gossip bytes sent per second over the measurement window.
    private var gossip: [String: Double] = [:]
    /// Per node: peak VmRSS in kB.
    private var rss: [String: Int] = [:]
    /// Per node: CPU seconds used and wall seconds observed.
    private var cpu: [String: (used: Double, wall: Double)] = [:]

    /// Adds one measured duration in seconds (e.g. `fault→cycle`).
    public func add(_ name: String, _ seconds: Double) {
        lock.lock()
        samples.append((name, seconds))
        lock.unlock()
    }

    /// Adds a line of text under `name` (e.g. a flood phase's figures).
    public func note(_ name: String, _ text: String) {
        lock.lock()
        notes.append((name, text))
        lock.unlock()
    }

    /// The text lines recorded under `name`.
    public func notes(_ name: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return notes.filter { $0.0 == name }.map(\.1)
    }

    /// Sets a count (e.g. `cycles, netheal agents`).
    public func count(_ name: String, _ value: Int) {
        lock.lock()
        counts.append((name, value))
        lock.unlock()
    }

    /// The durations recorded under `name`.
    public func values(_ name: String) -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        return samples.filter { $0.0 == name }.map(\.1)
    }

    /// The count recorded under `name`.
    public func countValue(_ name: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return counts.last { $0.0 == name }?.1
    }

    func setGossip(_ node: String, bytesPerSecond: Double) {
        lock.lock()
        gossip[node] = bytesPerSecond
        lock.unlock()
    }

    func addUsage(_ node: String, rssKB: Int, cpuUsed: Double, wall: Double) {
        lock.lock()
        rss[node] = max(rss[node] ?? 0, rssKB)
        let old = cpu[node] ?? (0, 0)
        cpu[node] = (old.used + cpuUsed, old.wall + wall)
        lock.unlock()
    }

    /// Gossip bytes sent per node per second (mean over nodes), nil before any measurement.
    public var meanGossipBytesPerSecond: Double? {
        lock.lock()
        defer { lock.unlock() }
        return gossip.isEmpty ? nil : gossip.values.reduce(0, +) / Double(gossip.count)
    }

    /// Peak agent RSS in MB (max over nodes).
    public var peakRSSMB: Double? {
        lock.lock()
        defer { lock.unlock() }
        return rss.values.max().map { Double($0) / 1024 }
    }

    /// Mean agent CPU in percent of one core.
    public var meanCPUPercent: Double? {
        lock.lock()
        defer { lock.unlock() }
        let all = cpu.values.filter { $0.wall > 0 }
        return all.isEmpty ? nil : all.map { 100 * $0.used / $0.wall }.reduce(0, +) / Double(all.count)
    }

    /// The figures as an indented text block.
    public func rendered() -> String {
        lock.lock()
        let samples = self.samples
        let counts = self.counts
        let notes = self.notes
        let gossip = self.gossip
        let rss = self.rss
        let cpu = self.cpu
        lock.unlock()
        var lines: [String] = []
        var seen: [String] = []
        for (name, _) in samples where !seen.contains(name) { seen.append(name) }
        for name in seen {
            let values = samples.filter { $0.0 == name }.map(\.1).sorted()
            let shown = values.map { String(format: "%.2f s", $0) }.joined(separator: ", ")
            lines.append(
                "  \(name): \(shown)" + (values.count > 1 ? String(format: " (median %.2f s)", median(values)) : ""))
        }
        for (name, value) in counts { lines.append("  \(name): \(value)") }
        for (name, text) in notes { lines.append("  \(name): \(text)") }
        if !gossip.isEmpty {
            let rates = gossip.sorted { $0.key.localizedStandardCompare($1.key) == .orderedAscending }
            let mean = gossip.values.reduce(0, +) / Double(gossip.count)
            lines.append(
                String(format: "  gossip sent per node: mean %.0f B/s (", mean)
                    + rates.map { "\($0.key) " + String(format: "%.0f", $0.value) }.joined(separator: ", ") + ")")
        }
        if !rss.isEmpty {
            let peak = Double(rss.values.max() ?? 0) / 1024
            let mean = Double(rss.values.reduce(0, +)) / Double(rss.count) / 1024
            lines.append(String(format: "  agent RSS: mean %.1f MB, peak %.1f MB", mean, peak))
        }
        let cpus = cpu.values.filter { $0.wall > 0 }.map { 100 * $0.used / $0.wall }
        if !cpus.isEmpty {
            lines.append(
                String(
                    format: "  agent CPU: mean %.2f %%, max %.2f %% of one core",
                    cpus.reduce(0, +) / Double(cpus.count), cpus.max() ?? 0))
        }
        return lines.isEmpty ? "  (none)\n" : lines.joined(separator: "\n") + "\n"
    }

    private func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// Samples the agents once a second: RSS and CPU from /proc, state changes from `status --json`
/// (into the timeline), and gossip counters at the start and end of the measurement window.
final class LabSampler: @unchecked Sendable {
    private let fleet: LabFleet
    private let figures: LabFigures
    private let lock = NSLock()
    private var running = false
    private var thread: Thread?
    private var lastUsage: [String: (pid: Int32, usage: ProcessUsage)] = [:]
    private var lastState: [String: String] = [:]
    private var gossipStart: (time: Date, bytes: [String: Int])?
    private var done = DispatchSemaphore(value: 0)

    init(fleet: LabFleet, figures: LabFigures) {
        self.fleet = fleet
        self.figures = figures
    }

    func start() {
        lock.lock()
        running = true
        lock.unlock()
        let thread = Thread { [self] in
            var tick = 0
            while isRunning {
                sampleUsage(measure: gossipStartTime != nil)
                if tick % 2 == 0 { sampleStates() }
                tick += 1
                Thread.sleep(forTimeInterval: 1)
            }
            done.signal()
        }
        thread.name = "lab-sampler"
        self.thread = thread
        thread.start()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private var gossipStartTime: Date? {
        lock.lock()
        defer { lock.unlock() }
        return gossipStart?.time
    }

    /// Starts the measurement window (after warm-up): gossip counters and CPU from here on.
    func markMeasurementStart() {
        var bytes: [String: Int] = [:]
        for node in fleet.nodes { bytes[node.name] = fleet.gossipBytes(node).sent }
        lock.lock()
        gossipStart = (Date(), bytes)
        lock.unlock()
    }

    func stop() {
        lock.lock()
        let wasRunning = running
        running = false
        let start = gossipStart
        lock.unlock()
        if wasRunning { done.wait() }
        guard let start else { return }
        let elapsed = Date().timeIntervalSince(start.time)
        guard elapsed > 0 else { return }
        for node in fleet.nodes {
            let sent = fleet.gossipBytes(node).sent - (start.bytes[node.name] ?? 0)
            figures.setGossip(node.name, bytesPerSecond: Double(max(0, sent)) / elapsed)
        }
    }

    private func sampleUsage(measure: Bool) {
        for node in fleet.nodes {
            guard let agent = fleet.agent(node), let usage = agent.usage() else { continue }
            if measure, let last = lastUsage[node.name], last.pid == agent.pid {
                figures.addUsage(
                    node.name, rssKB: usage.rssKB, cpuUsed: usage.cpuSeconds - last.usage.cpuSeconds,
                    wall: usage.at.timeIntervalSince(last.usage.at))
            }
            lastUsage[node.name] = (agent.pid, usage)
        }
    }

    private func sampleStates() {
        for node in fleet.nodes where fleet.agent(node) != nil {
            guard let status = fleet.status(node) else { continue }
            let key = "\(status.state ?? "?")/\(status.rule ?? "")"
            if lastState[node.name] != key {
                lastState[node.name] = key
                fleet.timeline.record(.agentState, node.name, status.summary)
            }
        }
    }
}
