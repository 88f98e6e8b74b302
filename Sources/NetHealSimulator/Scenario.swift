import NetHealCore

/// A simulation scenario: a fleet, its settings, a network, a timeline of faults and expectations.
/// Parsed from a `.scenario` file (docs/simulation.md) or generated from a seed (swarm mode).
public struct Scenario: Sendable {
    /// Name printed in reports (`scenario NAME`, else the file name). Default "unnamed".
    public var name = "unnamed"
    /// Where it came from ("simulations/x.scenario" or "swarm seed 17").
    public var source = "inline"
    /// The master seed every random choice derives from. Default 1.
    public var seed: UInt64 = 1
    /// Number of members, named n1 … nN. Default 5.
    public var fleetSize = 5
    /// Named failure domains (racks): name → members (1-based names resolved to 0-based indices).
    public var domains: [(name: String, members: [Int])] = []
    /// Simulated time to run. Default 120 s.
    public var duration: Duration = .seconds(120)
    /// The decision settings every node uses (`set FIELD VALUE` overrides).
    public var settings = HealSettings()
    /// The `set` lines as written (kept so swarm mode can print the scenario back).
    public var settingLines: [(key: String, value: String)] = []
    /// The default network between any two nodes (`network …`).
    public var network = LinkParams()
    /// Probability that one probe of one upstream target is lost even when all is well. Default 0.
    public var upstreamLoss = 0.0
    /// How long a heal keeps the interface down before it comes back. Default 3 s.
    public var healDuration: Duration = .seconds(3)
    /// How often every node's core is ticked. Default: min(gossipInterval, probeInterval).
    public var tickInterval: Duration?
    /// Signer: real libsodium Ed25519 (default) or the fast stand-in.
    public var signer = SignerKind.ed25519
    /// The fault timeline, in file order (applied by time, then file order).
    public var faults: [TimedFault] = []
    /// What must hold at the end (besides the invariants, which are always checked).
    public var expectations: [Expectation] = []

    public init() {}

    /// Member name of index `i` (0-based): "n\(i + 1)".
    public static func nodeName(_ i: Int) -> String { "n\(i + 1)" }

    /// The tick interval in force.
    public var effectiveTick: Duration {
        tickInterval ?? min(settings.gossipInterval, settings.probeInterval)
    }
}

/// Which signature scheme the simulated fleet uses.
public enum SignerKind: String, Sendable {
    /// Real Ed25519 via libsodium, exactly as the agent signs (default).
    case ed25519
    /// A fast keyed-hash stand-in with the same sizes (for huge fleets); NOT a signature. Reports say so.
    case fast
}

/// Per-link network behaviour.
public struct LinkParams: Hashable, Sendable {
    /// Smallest one-way latency. Default 1 ms.
    public var latencyMin: Duration = .milliseconds(1)
    /// Mean one-way latency (min + exponential tail). Default 3 ms.
    public var latencyMean: Duration = .milliseconds(3)
    /// Probability a datagram is lost. Default 0.
    public var loss = 0.0
    /// Probability a datagram is delivered twice. Default 0.
    public var duplicate = 0.0
    /// Probability a datagram gets an extra random delay (0 … 4 × mean), so it may overtake or be
    /// overtaken. Default 0.
    public var reorder = 0.0

    public init() {}
}

/// A set of members as written in a scenario: `all`, `n3`, `n2..n5`, a domain name, `{a,b,…}`.
public struct NodeSet: Hashable, Sendable {
    /// Member indices (0-based), ascending, unique.
    public var members: [Int]
    /// The text as written (for printing the scenario back).
    public var text: String

    public init(members: [Int], text: String) {
        self.members = Array(Set(members)).sorted()
        self.text = text
    }
}

/// One fault at a time, optionally reverted after `duration`.
public struct TimedFault: Sendable {
    /// When it starts (simulated time since the start).
    public var at: Duration
    /// What happens.
    public var fault: Fault
    /// Reverted after this long (`for D`); nil = stays.
    public var duration: Duration?
    /// Source line (for messages).
    public var line: Int
    /// The line as written.
    public var text: String
}

/// Which way a wedged interface fails.
public enum WedgeMode: String, Sendable {
    /// Nothing goes in or out (default).
    case both
    /// Sends are lost (peers stop hearing the node; probe requests never leave).
    case tx
    /// Receives are lost (probe answers and peers' datagrams never arrive; its own sends go out).
    case rx
}

/// A partition shape.
public enum PartitionShape: Sendable {
    /// Symmetric cut between the groups (every pair of different groups).
    case groups([NodeSet])
    /// One-way: datagrams from `from` to `to` are dropped; the other direction works.
    case oneWay(from: NodeSet, to: NodeSet)
    /// `node` is cut from every other member, both ways.
    case isolate(NodeSet)
    /// Two sides cut from each other except `bridge`, which reaches both.
    case bridge(NodeSet, NodeSet, via: NodeSet)
    /// Majority ring: member i reaches only the members within ring distance k = ⌊⌊N/2⌋/2⌋+… (see docs).
    case ring
    /// Two random sides drawn from the run's seed.
    case random
}

/// What a fault does.
public enum Fault: Sendable {
    /// The nodes' interfaces stop passing traffic (`mode`); a heal repairs it unless `hard`.
    case wedge(NodeSet, mode: WedgeMode, hard: Bool)
    /// The wedge is lifted without a heal (e.g. a cable reseated).
    case unwedge(NodeSet)
    /// The upstream targets stop answering for these nodes; the LAN between nodes is fine.
    case upstreamOutage(NodeSet)
    /// A failure domain loses its uplink: upstream outage for it, and it is cut from the other members.
    case uplinkLoss(NodeSet)
    /// A network partition.
    case partition(PartitionShape)
    /// Every partition and link override ends.
    case healNetwork
    /// Link behaviour between two sets (directional) changes.
    case link(from: NodeSet, to: NodeSet, params: LinkParams)
    /// The upstream (`upstream: true`) or the interfaces of the nodes go down and up every half period.
    case flap(NodeSet, upstream: Bool, period: Duration)
    /// The links between two sets go down (both ways) and up every half period.
    case flapLink(NodeSet, NodeSet, period: Duration)
    /// The agent process dies; restarted after the fault's duration (default 5 s) with its persisted
    /// pacing state and a new incarnation. `whenHealing`: armed now, fires 500 ms into the node's next heal.
    case crash(NodeSet, whenHealing: Bool)
    /// The node's wall clock is off by this many milliseconds (only `originTimeMillis` sees it).
    case skew(NodeSet, millis: Int64)
    /// An attacker re-sends captured datagrams: `count` of the sender's most recent (`stale`: older ones).
    case replay(from: NodeSet, to: NodeSet, count: Int, stale: Bool)
    /// A non-member signs a datagram claiming to be `from` and sends it to `to`.
    case forge(from: NodeSet, to: NodeSet)
}

/// A check made at the end of a run.
public struct Expectation: Sendable {
    /// What is checked.
    public enum Kind: Sendable {
        /// The nodes (nil = every node) heal exactly / at least / at most `count` times overall;
        /// with `within`, each counted heal starts within that long of the node's first wedge.
        case heals(NodeSet?, Comparison, Int, within: Duration?)
        /// No heal on any node outside `except`.
        case noHeal(except: NodeSet?)
        /// Every node heals at most `count` times in any window of `window`.
        case atMostPerNode(Int, window: Duration)
        /// The decoders rejected at least `count` datagrams for `reason` (a WireError reason, e.g. "replayed").
        case rejected(reason: String, atLeast: Int)
    }

    /// The check.
    public var kind: Kind
    /// Source line.
    public var line: Int
    /// The line as written.
    public var text: String
}

/// exactly / at-least / at-most.
public enum Comparison: String, Sendable {
    case exactly, atLeast = "at-least", atMost = "at-most"

    func holds(_ value: Int, _ bound: Int) -> Bool {
        switch self {
        case .exactly: value == bound
        case .atLeast: value >= bound
        case .atMost: value <= bound
        }
    }
}
