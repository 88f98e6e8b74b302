import Logging
import NIOCore
import NIOPosix
import NetHealConfig
import NetHealCore

/// How to run one agent: the node file and the process-level plumbing (systemd, signals, clocks).
public struct AgentOptions: Sendable {
    /// The node file (`/etc/netheal/node.yaml`); it names the cluster file.
    public var nodeFile: String
    /// Bind probe sockets to the managed interface (`SO_BINDTODEVICE`). Default true. Off only for
    /// diagnostics: probes then follow the routing table and no longer prove the interface works.
    public var bindProbesToInterface: Bool
    /// The systemd notifier. Default: none (no `NOTIFY_SOCKET`); `run` uses the process environment.
    public var notifier: SystemdNotifier
    /// Reload the configuration on SIGHUP. Default true (turn off when several agents share a process).
    public var reloadOnSIGHUP: Bool
    /// Extra reload requests (each element reloads like SIGHUP); for in-process agents. Default none.
    public var reloadRequests: AsyncStream<Void>?
    /// The event loops for sockets. Default: NIO's shared singleton group.
    public var eventLoopGroup: any EventLoopGroup
    /// The clocks. Default: the system clocks.
    public var clock: AgentClock
    /// The root logger (its level is set from the node file's `log_level`).
    public var logger: Logger
    /// Refuse to start when the managed interface does not exist (checked before the state directory is
    /// opened). Default false for in-process agents (tests simulate a vanished interface);
    /// `runUntilSignalled` — the daemon — always sets it.
    public var requireInterface = false
    /// Unmap clean start-up pages (`ResidentTrim`) 10 s after start and every 5 minutes after.
    /// Default false for in-process agents; `runUntilSignalled` — the daemon — sets it.
    public var trimResidentSet = false
    /// Run the agent's loops and its decision actor on one event loop of `eventLoopGroup` (a task
    /// executor preference) instead of Swift Concurrency's global pool: no thread switch per
    /// datagram or tick. Default false for in-process agents; `runUntilSignalled` sets it.
    public var runOnEventLoop = false

    public init(
        nodeFile: String, bindProbesToInterface: Bool = true,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]), reloadOnSIGHUP: Bool = true,
        reloadRequests: AsyncStream<Void>? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, clock: AgentClock = .system,
        logger: Logger = Logger(label: "netheal")
    ) {
        self.nodeFile = nodeFile
        self.bindProbesToInterface = bindProbesToInterface
        self.notifier = notifier
        self.reloadOnSIGHUP = reloadOnSIGHUP
        self.reloadRequests = reloadRequests
        self.eventLoopGroup = eventLoopGroup
        self.clock = clock
        self.logger = logger
    }
}

/// Why the agent could not start (or could not apply a reload). Every case names the file and the fix.
public enum AgentStartupError: Error, Sendable, CustomStringConvertible {
    /// The node or cluster file is invalid: every problem found.
    case configuration(ConfigProblems)
    /// The secret key file was refused (missing, readable by group/others, malformed, …).
    case secretKey(SecretKeyError)
    /// The key in use is not (or no longer) this member's key in the cluster file (on reload).
    case keyMismatch(keyFile: String, derived: String, member: String, clusterFile: String, configured: String)
    /// A heal action of the node file is not usable.
    case healAction(String)
    /// The state directory, the control socket or the metrics endpoint could not be set up.
    case setup(String)

    public var description: String {
        switch self {
        case .configuration(let problems):
            return "invalid configuration:\n" + problems.problems.map { "  \($0)" }.joined(separator: "\n")
        case .secretKey(let error):
            return "secret key refused: \(error)"
        case .keyMismatch(let keyFile, let derived, let member, let clusterFile, let configured):
            return "the secret key in \(keyFile) has public key \(derived), but member `\(member)` in \(clusterFile) "
                + "has public_key \(configured) — use this member's own key file, or put \(derived) in the cluster file "
                + "(on every node) if this node's key was replaced"
        case .healAction(let message):
            return "invalid heal action: \(message)"
        case .setup(let message):
            return message
        }
    }
}

extension NodeConfiguration {
    /// The settings the core runs with (the config layer folds in dry run and the escalation ladder).
    var effectiveSettings: HealSettings { settings }

    /// The heal action of ladder step `step` (the last one repeats).
    func healAction(step: Int) -> NodeSettings.HealAction {
        let ladder = node.healAction.steps
        return ladder[min(max(0, step), ladder.count - 1)]
    }
}

extension HealActionSpec {
    /// The heal layer's spec for a node-file action.
    init(_ action: NodeSettings.HealAction) {
        self.init(
            kind: action.kind, extraArguments: action.extraArguments, mode: action.cycle,
            command: action.kind == .command ? action.argv : [], stepTimeout: action.timeout,
            verifyTimeout: action.verifyTimeout, fallbackRestore: action.fallbackRestore)
    }
}
