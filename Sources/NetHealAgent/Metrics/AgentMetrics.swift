import NetHealCore
import NetHealWire
import Prometheus

/// The agent's Prometheus metrics, in one registry per agent (several agents may share a process in
/// tests, so nothing is bootstrapped globally). Label values come from bounded sets: decision rules,
/// `WireError.reason`, configured probe targets, heal outcomes.
public final class AgentMetrics: Sendable {
    /// The registry `GET /metrics` emits.
    public let registry = PrometheusCollectorRegistry()

    private let viewsDirect: Counter
    private let viewsRelayed: Counter
    private let freshPeers: Gauge
    private let healingEnabled: Gauge
    private let transportDrops: Gauge
    private let wouldHeals: Counter
    private let healsStarted: Counter

    public init() {
        viewsDirect = registry.makeCounter(
            descriptor: .netheal(
                "views_accepted", unit: "total",
                help:
                    "Views accepted: a sender's own view from one of its configured addresses (direct) or any other (relayed)."
            ), labels: [("kind", "direct")])
        viewsRelayed = registry.makeCounter(
            descriptor: .netheal(
                "views_accepted", unit: "total",
                help:
                    "Views accepted: a sender's own view from one of its configured addresses (direct) or any other (relayed)."
            ), labels: [("kind", "relayed")])
        freshPeers = registry.makeGauge(
            descriptor: .netheal("fresh_peers", unit: "", help: "Peers whose newest view is fresh."))
        healingEnabled = registry.makeGauge(
            descriptor: .netheal("healing_enabled", unit: "", help: "1 unless the off switch is set."))
        transportDrops = registry.makeGauge(
            descriptor: .netheal(
                "transport_dropped_datagrams", unit: "",
                help: "Datagrams dropped before decoding since start (oversize, rate limits, full queue)."))
        wouldHeals = registry.makeCounter(
            descriptor: .netheal("would_heals", unit: "total", help: "Dry-run heals that would have happened."))
        healsStarted = registry.makeCounter(
            descriptor: .netheal("heals_started", unit: "total", help: "Heal actions started."))
        for reason in WireError.allReasons { _ = rejectedCounter(reason) }
        for outcome in ["completed", "failed", "timed_out"] { _ = healCounter(outcome) }
        healingEnabled.set(to: 1)
    }

    func viewAccepted(direct: Bool) { (direct ? viewsDirect : viewsRelayed).increment() }

    func viewRejected(_ error: WireError) { rejectedCounter(error.reason).increment() }

    func hold(rule: DecisionRule) {
        registry.makeCounter(
            descriptor: .netheal(
                "holds", unit: "total", help: "Decisions to hold (not heal) although own probes fail, by rule."),
            labels: [("rule", rule.id)]
        ).increment()
    }

    func probe(target: String, ok: Bool, outcome: NetHealCore.ProbeOutcome) {
        let result: String
        switch outcome {
        case .answered: result = "ok"
        case .timedOut: result = "timeout"
        case .sendError: result = "send_error"
        }
        registry.makeCounter(
            descriptor: .netheal("probe_results", unit: "total", help: "Probe results by configured target."),
            labels: [("target", target), ("result", result)]
        ).increment()
    }

    func healStarted() { healsStarted.increment() }

    func wouldHeal() { wouldHeals.increment() }

    func healFinished(_ outcome: NetHealCore.HealOutcome) {
        switch outcome {
        case .completed: healCounter("completed").increment()
        case .failed: healCounter("failed").increment()
        case .timedOut: healCounter("timed_out").increment()
        }
    }

    func set(freshPeers count: Int, healingEnabled enabled: Bool, transportDrops drops: Int) {
        freshPeers.set(to: Double(count))
        healingEnabled.set(to: enabled ? 1 : 0)
        transportDrops.set(to: Double(drops))
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private func rejectedCounter(_ reason: String) -> Counter {
        registry.makeCounter(
            descriptor: .netheal(
                "views_rejected", unit: "total", help: "Datagrams rejected by the decoder, by WireError reason."),
            labels: [("reason", reason)])
    }

    private func healCounter(_ outcome: String) -> Counter {
        registry.makeCounter(
            descriptor: .netheal("heals", unit: "total", help: "Heal actions finished, by outcome."),
            labels: [("outcome", outcome)])
    }
}

extension MetricNameDescriptor {
    /// `netheal_<name>[_<unit>]` with its help text.
    static func netheal(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "netheal", metricName: name, unitName: unit, helpText: help)
    }
}
