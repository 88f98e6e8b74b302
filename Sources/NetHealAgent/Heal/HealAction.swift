import NetHealConfig

/// Which tool a heal uses to cycle the managed interface: the node file's `heal_action.kind`
/// (one definition, in `NetHealConfig`).
public typealias HealActionKind = NodeSettings.HealAction.Kind

/// How `networkctl` and `nmcli` actions cycle the interface: the node file's `heal_action.cycle`.
public typealias HealCycleMode = NodeSettings.HealAction.CycleMode

/// A configured heal action: the kind plus its options. Built from the node file by the config layer.
public struct HealActionSpec: Codable, Equatable, Sendable {
    /// The tool. Default `.ifupdown`.
    public var kind: HealActionKind
    /// Extra arguments appended to every `ifdown`/`ifup`/`networkctl`/`nmcli` invocation, e.g.
    /// `["--state-dir", "/run/lab/n1"]` for ifupdown in a lab. Default none.
    public var extraArguments: [String]
    /// For `networkctl` and `nmcli`: reconfigure in place or down+up. Default `.reconfigure`.
    public var mode: HealCycleMode
    /// For `command`: the argv (no shell); the exact element `{interface}` is replaced by the
    /// interface name. Default empty (invalid for `command`).
    public var command: [String]
    /// Limit for each command the heal runs; the process group is killed after it. Default 30 s.
    public var stepTimeout: Duration
    /// How long verification waits for the interface to come up with its addresses and default
    /// route before it declares the heal failed. Default 10 s.
    public var verifyTimeout: Duration
    /// When the action leaves the interface down or without its addresses/default route, bring the
    /// link up and restore them from the snapshot (never leave the interface down). Default true.
    public var fallbackRestore: Bool

    /// An action; see the properties for the defaults.
    public init(
        kind: HealActionKind = .ifupdown, extraArguments: [String] = [], mode: HealCycleMode = .reconfigure,
        command: [String] = [], stepTimeout: Duration = .seconds(30), verifyTimeout: Duration = .seconds(10),
        fallbackRestore: Bool = true
    ) {
        self.kind = kind
        self.extraArguments = extraArguments
        self.mode = mode
        self.command = command
        self.stepTimeout = stepTimeout
        self.verifyTimeout = verifyTimeout
        self.fallbackRestore = fallbackRestore
    }

    /// Checks the action once; the error names the field and the fix.
    public func validate() throws(HealActionError) {
        if kind == .command {
            guard let program = command.first, !program.isEmpty else {
                throw HealActionError(field: "command", message: "the 'command' action needs a non-empty argv, e.g. [\"/usr/local/sbin/reset-nic\", \"{interface}\"]")
            }
        } else if !command.isEmpty {
            throw HealActionError(field: "command", message: "only the 'command' action takes an argv; remove it or set kind: command")
        }
        if kind == .command || kind == .ipLink, !extraArguments.isEmpty {
            throw HealActionError(field: "extraArguments", message: "'\(kind.rawValue)' takes no extra arguments")
        }
        guard stepTimeout > .zero, stepTimeout <= .seconds(600) else {
            throw HealActionError(field: "stepTimeout", message: "must be between 0 and 600 s, got \(stepTimeout)")
        }
        guard verifyTimeout >= .zero, verifyTimeout <= .seconds(600) else {
            throw HealActionError(field: "verifyTimeout", message: "must be between 0 and 600 s, got \(verifyTimeout)")
        }
    }

    /// The commands of the action itself for `interface`, in order (pure). Every step runs even
    /// when an earlier one failed: an `ifdown` that fails must still be followed by `ifup`.
    public func actionCommands(interface: String) -> [[String]] {
        switch kind {
        case .ifupdown:
            return [["ifdown", interface] + extraArguments, ["ifup", interface] + extraArguments]
        case .ipLink:
            return [IPCommands.linkSet(interface, up: false), IPCommands.linkSet(interface, up: true)]
        case .networkctl:
            switch mode {
            case .reconfigure: return [["networkctl", "reconfigure", interface] + extraArguments]
            case .downUp:
                return [["networkctl", "down", interface] + extraArguments, ["networkctl", "up", interface] + extraArguments]
            }
        case .nmcli:
            switch mode {
            case .reconfigure: return [["nmcli"] + extraArguments + ["device", "reapply", interface]]
            case .downUp:
                return [
                    ["nmcli"] + extraArguments + ["device", "disconnect", interface],
                    ["nmcli"] + extraArguments + ["device", "connect", interface],
                ]
            }
        case .command:
            return [command.map { $0 == "{interface}" ? interface : $0 }]
        }
    }

    /// The tool's own "bring it up" commands, run first when completing an unfinished heal after a
    /// crash (pure). `ip-link` and `command` have none: the generic restore (link up, re-add
    /// addresses and routes) does it.
    public func recoveryCommands(interface: String) -> [[String]] {
        switch kind {
        case .ifupdown: return [["ifup", interface] + extraArguments]
        case .networkctl: return [["networkctl", "up", interface] + extraArguments]
        case .nmcli: return [["nmcli"] + extraArguments + ["device", "connect", interface]]
        case .ipLink, .command: return []
        }
    }
}

/// An invalid heal action setting.
public struct HealActionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The offending field of the action.
    public var field: String
    /// What is wrong and how to fix it.
    public var message: String
    public var description: String { "heal action: \(field): \(message)" }
}
