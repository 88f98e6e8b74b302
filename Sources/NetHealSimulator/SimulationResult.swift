import NetHealCore

/// One invariant or expectation that did not hold.
public struct Violation: Sendable, CustomStringConvertible {
    /// Safety (exit 1) or liveness (exit 2).
    public enum Kind: String, Sendable { case safety, liveness }
    public var kind: Kind
    /// Simulated time (ns since start).
    public var at: Int64
    /// The node concerned (0-based), if any.
    public var node: Int?
    public var message: String

    public var description: String {
        let who = node.map { " \(Scenario.nodeName($0))" } ?? ""
        return "\(kind.rawValue) violation at \(SimDuration.seconds(at))\(who): \(message)"
    }
}

/// One heal (interface cycle or dry-run would-heal) as the simulator saw it.
public struct SimHeal: Sendable {
    public var node: Int
    /// Simulated time of the order (ns).
    public var at: Int64
    public var rule: DecisionRule
    public var reason: String
    public var dryRun: Bool
    /// The node's interface was really broken (wedged or flapped down) when the heal was ordered.
    public var justified: Bool
    /// Since when the interface was broken (ns), when justified.
    public var brokenSince: Int64?
}

/// A state change of one node (for the report's timeline).
public struct StateChange: Sendable {
    public var at: Int64
    public var node: Int32
    public var state: DecisionState
}

/// A fault as it happened (for the report).
public struct FaultMark: Sendable {
    public var at: Int64
    public var until: Int64?
    public var nodes: [Int]
    public var label: String
}

/// Everything a run produced.
public struct SimulationResult: Sendable {
    public var scenario: String
    public var source: String
    public var seed: UInt64
    public var policy: String
    public var signer: SignerKind
    public var fleetSize: Int
    public var simulatedNanos: Int64
    public var violations: [Violation] = []
    public var heals: [SimHeal] = []
    /// Decoder rejections by `WireError.reason`, sorted by reason.
    public var rejected: [(reason: String, count: Int)] = []
    /// Injected (replayed/stale/forged) datagrams delivered to a decoder, and how many it accepted.
    public var injectedDelivered = 0
    public var injectedAccepted = 0
    /// Views accepted from a replay after the receiver restarted (allowed by docs/protocol.md, counted).
    public var acceptedAfterRestart = 0
    /// Signature checks computed by the verifier, and repeated checks of identical (signature, view, key)
    /// answered from the simulator's memo (`CachingVerifier`).
    public var verificationsComputed = 0
    public var verificationsMemoized = 0
    /// True when a second thread checked signatures ahead (`Simulation.verifierThread`); then how many of
    /// `verificationsComputed` that thread computed (timing-dependent, so in no text and no trace).
    /// Neither changes any other field.
    public var verifierThread = false
    public var verificationsAhead = 0
    public var datagramsSent = 0
    public var datagramsDelivered = 0
    public var gossipBytes = 0
    public var events = 0
    /// FNV-1a over every processed event and effect: equal hashes = identical runs.
    public var traceHash: UInt64 = 0
    public var stateChanges: [StateChange] = []
    public var faults: [FaultMark] = []
    /// Agent down-times: (node, crashed at, restarted at; nil = still down at the end), in ns.
    public var downtimes: [(node: Int, from: Int64, to: Int64?)] = []
    /// Wall-clock seconds the run took.
    public var wallSeconds = 0.0

    /// 0 ok, 1 safety/correctness, 2 liveness (safety wins when both).
    public var exitCode: Int32 {
        if violations.contains(where: { $0.kind == .safety }) { return 1 }
        if violations.contains(where: { $0.kind == .liveness }) { return 2 }
        return 0
    }

    public var passed: Bool { violations.isEmpty }

    /// Heals of nodes whose interface was fine.
    public var falseHeals: Int { heals.filter { !$0.justified }.count }
    public var trueHeals: Int { heals.filter { $0.justified }.count }

    /// Gossip bytes sent per node per simulated second.
    public var gossipBytesPerNodeSecond: Double {
        let secs = Double(simulatedNanos) / 1e9
        return secs > 0 && fleetSize > 0 ? Double(gossipBytes) / secs / Double(fleetSize) : 0
    }
}
