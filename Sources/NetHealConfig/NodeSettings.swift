import NetHealCore

/// The validated content of a node file: this node's identity and local settings.
public struct NodeSettings: Hashable, Sendable {
    /// The node file it was loaded from (as given to the loader).
    public var path: String
    /// The cluster file, resolved against the node file's directory when relative.
    public var clusterFile: String
    /// This node's member name in the cluster file.
    public var member: String
    /// The secret key file (`ed25519-seed:<hex>`, mode 0600), resolved like `clusterFile`.
    public var secretKeyFile: String
    /// The managed interface (the one healed and the one probes are bound to).
    public var interface: String
    /// Upstream probe targets, in file order (at least one).
    public var probeTargets: [ProbeTarget]
    /// The heal action and its escalation steps.
    public var healAction: HealActionLadder
    /// The state directory (absolute). Default `/var/lib/netheal`.
    public var stateDirectory: String
    /// The control socket path (absolute). Default `/run/netheal/control.sock`.
    public var controlSocket: String
    /// The group allowed to use the control socket (mode 0660), or nil: root only.
    public var controlGroup: String?
    /// The loopback address of the Prometheus endpoint, or nil: no endpoint (default).
    public var metricsListen: HostPort?
    /// Heal, or only record "would heal". Default `.heal`.
    public var mode: NodeMode
    /// The log level. Default `.info`.
    public var logLevel: LogLevelSetting
    /// Weekly UTC windows during which healing is suspended (`maintenance_windows`). Default none.
    public var maintenanceWindows: MaintenanceSchedule

    /// Default of `stateDirectory`.
    public static let defaultStateDirectory = "/var/lib/netheal"
    /// Default of `controlSocket`.
    public static let defaultControlSocket = "/run/netheal/control.sock"

    public init(
        path: String, clusterFile: String, member: String, secretKeyFile: String, interface: String,
        probeTargets: [ProbeTarget], healAction: HealActionLadder,
        stateDirectory: String = NodeSettings.defaultStateDirectory,
        controlSocket: String = NodeSettings.defaultControlSocket, controlGroup: String? = nil,
        metricsListen: HostPort? = nil, mode: NodeMode = .heal, logLevel: LogLevelSetting = .info,
        maintenanceWindows: MaintenanceSchedule = MaintenanceSchedule()
    ) {
        self.path = path
        self.clusterFile = clusterFile
        self.member = member
        self.secretKeyFile = secretKeyFile
        self.interface = interface
        self.probeTargets = probeTargets
        self.healAction = healAction
        self.stateDirectory = stateDirectory
        self.controlSocket = controlSocket
        self.controlGroup = controlGroup
        self.metricsListen = metricsListen
        self.mode = mode
        self.logLevel = logLevel
        self.maintenanceWindows = maintenanceWindows
    }
}

/// Whether the node performs heals. Default `heal`.
public enum NodeMode: String, Hashable, Sendable, CaseIterable {
    /// Perform heals (default).
    case heal
    /// Shadow mode: decide, log and show "would heal", never touch the interface.
    case dryRun = "dry-run"
}

/// Log levels (swift-log's, by name). Default `info`.
public enum LogLevelSetting: String, Hashable, Sendable, CaseIterable {
    /// Everything, including per-datagram and per-probe detail.
    case trace
    /// Diagnostic detail.
    case debug
    /// Decision changes, heals, configuration (default).
    case info
    /// Notable but normal events.
    case notice
    /// Problems that do not stop the agent.
    case warning
    /// Failures of an operation.
    case error
    /// The agent cannot continue.
    case critical
}

extension NodeSettings {
    /// One upstream probe target of the node file.
    public enum ProbeTarget: Hashable, Sendable, CustomStringConvertible {
        /// ICMP echo to the default gateway of the managed interface, looked up in the routing table
        /// at every probe round (written `gateway`).
        case gateway
        /// ICMP echo to an address (written `icmp 198.18.0.1` or `icmp 2001:db8::1`).
        case icmp(IPAddress)
        /// A TCP connect to an address and port (written `tcp 198.18.0.1:443` or `tcp [2001:db8::1]:443`).
        case tcp(HostPort)

        /// The text form, as the node file writes it.
        public var description: String {
            switch self {
            case .gateway: "gateway"
            case .icmp(let address): "icmp \(address)"
            case .tcp(let hostPort): "tcp \(hostPort)"
            }
        }

        /// Parses the text form; on failure returns the reason and fix.
        public static func parse(_ text: String) -> Result<ProbeTarget, HostPortError> {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            let usage = "write `gateway`, `icmp ADDRESS` or `tcp ADDRESS:PORT`"
            switch parts.first {
            case "gateway":
                return parts.count == 1 ? .success(.gateway) : .failure(.malformed("`gateway` takes no argument — \(usage)"))
            case "icmp":
                guard parts.count == 2 else { return .failure(.malformed("`icmp` takes one IP address — \(usage)")) }
                guard let address = IPAddress(String(parts[1])) else {
                    return .failure(.malformed("`\(parts[1])` is not an IP address (host names are not resolved) — \(usage)"))
                }
                guard !address.isUnspecified, !address.isMulticastOrBroadcast else {
                    return .failure(.malformed("`\(parts[1])` is not a unicast address — probe a router or a well-known anchor"))
                }
                return .success(.icmp(address))
            case "tcp":
                guard parts.count == 2 else { return .failure(.malformed("`tcp` takes one ADDRESS:PORT — \(usage)")) }
                switch HostPort.parse(String(parts[1])) {
                case .success(let hostPort):
                    guard !hostPort.address.isUnspecified, !hostPort.address.isMulticastOrBroadcast else {
                        return .failure(.malformed("`\(parts[1])` is not a unicast address"))
                    }
                    return .success(.tcp(hostPort))
                case .failure(let error): return .failure(error)
                }
            default:
                let kind = parts.first.map(String.init) ?? ""
                return .failure(.malformed("unknown probe kind `\(kind)`" + Suggest.didYouMean(kind, among: ["gateway", "icmp", "tcp"], listing: nil) + " — \(usage)"))
            }
        }
    }

    /// The heal action and what follows when heals do not help (the node file's `heal_action`).
    public struct HealActionLadder: Hashable, Sendable {
        /// The action a heal performs.
        public var primary: HealAction
        /// Further actions, used in order as consecutive heals fail to help: step k (1-based) after
        /// k × `escalateAfterFailures` consecutive failed heals; the last is repeated. Empty by
        /// default: the primary action is repeated, paced by the backoff.
        public var escalation: [HealAction]
        /// Consecutive failed heals per escalation step (the node file's `escalate_after`). Default 1.
        public var escalateAfterFailures: Int

        /// Default of `escalateAfterFailures`.
        public static let defaultEscalateAfterFailures = 1

        public init(primary: HealAction, escalation: [HealAction] = [], escalateAfterFailures: Int = HealActionLadder.defaultEscalateAfterFailures) {
            self.primary = primary
            self.escalation = escalation
            self.escalateAfterFailures = escalateAfterFailures
        }

        /// The ladder in order: the primary action, then the escalation steps (the core's step index).
        public var steps: [HealAction] { [primary] + escalation }
    }

    /// One heal action: how to cycle the managed interface, with its options and time limits.
    public struct HealAction: Hashable, Sendable {
        /// Which tool.
        public var kind: Kind
        /// For `.command` only: the program (absolute path) and its arguments, run without a shell;
        /// an element that is exactly `{interface}` is replaced by the interface name. Empty otherwise.
        public var argv: [String]
        /// For `ifupdown`, `networkctl`, `nmcli`: extra arguments appended to every invocation
        /// (e.g. `[--state-dir, /run/lab/n1]`). Default none.
        public var extraArguments: [String]
        /// For `networkctl` and `nmcli`: reconfigure in place, or down then up. Default `.reconfigure`.
        public var cycle: CycleMode
        /// Limit for each command the action runs; its process group is killed after it. Default 30 s.
        public var timeout: Duration
        /// How long the agent waits afterwards for the interface to be up with its addresses and
        /// default route before it declares the heal failed. Default 10 s.
        public var verifyTimeout: Duration
        /// When the action leaves the interface down or without its addresses/default route, bring
        /// the link up and restore them from the pre-heal snapshot. Default true.
        public var fallbackRestore: Bool

        /// Default of `timeout`.
        public static let defaultTimeout: Duration = .seconds(30)
        /// Default of `verifyTimeout`.
        public static let defaultVerifyTimeout: Duration = .seconds(10)

        public init(
            kind: Kind, argv: [String] = [], extraArguments: [String] = [], cycle: CycleMode = .reconfigure,
            timeout: Duration = HealAction.defaultTimeout, verifyTimeout: Duration = HealAction.defaultVerifyTimeout,
            fallbackRestore: Bool = true
        ) {
            self.kind = kind
            self.argv = argv
            self.extraArguments = extraArguments
            self.cycle = cycle
            self.timeout = timeout
            self.verifyTimeout = verifyTimeout
            self.fallbackRestore = fallbackRestore
        }

        /// The longest the action may take: every command at its timeout, then verification.
        public var worstCaseDuration: Duration { timeout * commandCount + verifyTimeout }

        /// How many commands the action runs (the restore after `ip-link` is not counted).
        public var commandCount: Int {
            switch kind {
            case .command: 1
            case .networkctl, .nmcli: cycle == .reconfigure ? 1 : 2
            case .ifupdown, .ipLink: 2
            }
        }

        /// The tools a heal action can use.
        public enum Kind: String, Hashable, Sendable, CaseIterable, Codable {
            /// `ifdown IF; ifup IF` (Debian ifupdown).
            case ifupdown
            /// `ip link set IF down/up`, then restore the addresses and routes the interface had.
            case ipLink = "ip-link"
            /// systemd-networkd: `networkctl reconfigure IF`, or `networkctl down IF; networkctl up IF`.
            case networkctl
            /// NetworkManager: `nmcli device reapply IF`, or `nmcli device disconnect IF; nmcli device connect IF`.
            case nmcli
            /// An operator-supplied program (`argv`), executed without a shell.
            case command
        }

        /// How `networkctl` and `nmcli` cycle the interface.
        public enum CycleMode: String, Hashable, Sendable, CaseIterable, Codable {
            /// Re-apply the configuration without taking the link down (default).
            case reconfigure
            /// Take the interface down, then up.
            case downUp = "down-up"
        }
    }
}
