import NetHealCore
import Yams

/// Interprets the node file (without its cluster file; `ConfigLoader` joins the two).
enum NodeFile {
    typealias ProbeTarget = NodeSettings.ProbeTarget
    typealias HealAction = NodeSettings.HealAction
    typealias HealActionLadder = NodeSettings.HealActionLadder

    /// The top-level keys of a node file.
    static let keys = [
        "cluster_file", "member", "secret_key_file", "interface", "probe_targets", "heal_action",
        "state_dir", "control_socket", "control_group", "metrics_listen", "mode", "log_level",
        "maintenance_windows",
    ]
    static let stepKeys = ["kind", "argv", "extra_arguments", "cycle", "timeout", "verify_timeout", "fallback_restore"]
    static let actionKeys = stepKeys + ["escalation", "escalate_after"]

    /// Default of `secret_key_file`.
    static let defaultSecretKeyFile = "/etc/netheal/node.key"
    /// Limits.
    static let maximumProbeTargets = 16
    static let maximumMaintenanceWindows = 32
    static let maximumEscalationSteps = 4
    static let maximumArgv = 64
    /// `sun_path` holds 108 bytes including the terminating NUL.
    static let maximumSocketPathBytes = 107

    /// What reading a node file yields: the settings when valid, and whatever is needed to go on
    /// checking the cluster file even when the node file has problems.
    struct Outcome {
        var settings: NodeSettings?
        var clusterFile: String?
        var clusterFileMark: SourceMark = .start
        var member: String?
        var memberMark: SourceMark = .start
        /// Where each heal action step's timeout is written (or the step itself when defaulted),
        /// with its field path, in ladder order.
        var timeoutMarks: [TimeoutMark] = []
    }

    /// Reads the node file in `bytes`, recording every problem. `directory` is the node file's
    /// directory, against which relative `cluster_file` and `secret_key_file` resolve.
    static func parse(_ bytes: [UInt8], path: String, directory: String, problems: ProblemCollector) -> Outcome {
        guard let root = YAMLSource.compose(bytes, problems: problems) else { return Outcome() }
        return parse(root: root, path: path, directory: directory, problems: problems)
    }

    static func parse(root: Node, path: String, directory: String, problems: ProblemCollector) -> Outcome {
        guard let top = MappingReader(root, path: "", known: keys, problems: problems, what: "a node file") else { return Outcome() }

        let clusterFile = top.required("cluster_file", example: "cluster.yaml") != nil
            ? filePath(top, "cluster_file", directory: directory) : nil
        var member: String?
        if top.required("member", example: "n1") != nil, let name = top.string("member") {
            if let why = NameRules.problem(name) { problems.add(top.valueMark("member"), "member", why) } else { member = name }
        }
        let secretKeyFile = top.has("secret_key_file") ? filePath(top, "secret_key_file", directory: directory) : defaultSecretKeyFile
        var interface: String?
        if top.required("interface", example: "eth0") != nil, let name = top.string("interface") {
            if let why = InterfaceName.problem(name) { problems.add(top.valueMark("interface"), "interface", why) } else { interface = name }
        }
        let probeTargets = top.required("probe_targets", example: "[gateway, \"icmp 1.1.1.1\"]") != nil ? readProbeTargets(top) : nil
        var timeoutMarks: [TimeoutMark] = []
        let healAction = top.required("heal_action", example: "ifupdown") != nil
            ? readHealAction(top["heal_action"]!, field: "heal_action", problems: problems, timeoutMarks: &timeoutMarks) : nil

        var stateDirectory: String? = NodeSettings.defaultStateDirectory
        if top.has("state_dir") { stateDirectory = absolutePath(top, "state_dir", example: "/var/lib/netheal") }
        var controlSocket: String? = NodeSettings.defaultControlSocket
        if top.has("control_socket") {
            controlSocket = absolutePath(top, "control_socket", example: "/run/netheal/control.sock")
            if let socket = controlSocket, socket.utf8.count > maximumSocketPathBytes {
                problems.add(top.valueMark("control_socket"), "control_socket", "is \(socket.utf8.count) bytes, longer than a Unix socket path may be (\(maximumSocketPathBytes)) — use a shorter path")
                controlSocket = nil
            }
        }
        var controlGroup: String?
        var groupOK = true
        if top.has("control_group") {
            controlGroup = top.string("control_group")
            if let group = controlGroup, !isGroupName(group) {
                problems.add(top.valueMark("control_group"), "control_group", "`\(group)` is not a valid group name (lowercase letters, digits, `_`, `-`, at most 32 characters)")
                controlGroup = nil
            }
            groupOK = controlGroup != nil
        }
        var metricsListen: HostPort?
        var metricsOK = true
        if top.has("metrics_listen"), let text = top.string("metrics_listen") {
            switch HostPort.parse(text) {
            case .failure(let error):
                problems.add(top.valueMark("metrics_listen"), "metrics_listen", "bad address `\(text)`: \(error)")
            case .success(let address) where !address.address.isLoopback:
                problems.add(
                    top.valueMark("metrics_listen"), "metrics_listen",
                    "\(address) is not a loopback address; the metrics endpoint is unauthenticated — use 127.0.0.1:PORT or [::1]:PORT and scrape through a local agent or proxy")
            case .success(let address):
                metricsListen = address
            }
            metricsOK = metricsListen != nil
        } else if top.has("metrics_listen") {
            metricsOK = false
        }
        let mode = top.has("mode") ? top.choice("mode", NodeMode.self) : .heal
        let logLevel = top.has("log_level") ? top.choice("log_level", LogLevelSetting.self) : .info
        let maintenance = top.has("maintenance_windows") ? readMaintenanceWindows(top) : MaintenanceSchedule()

        var outcome = Outcome(
            clusterFile: clusterFile, clusterFileMark: top.valueMark("cluster_file"), member: member, memberMark: top.valueMark("member"),
            timeoutMarks: timeoutMarks)
        guard problems.isEmpty, let clusterFile, let member, let secretKeyFile, let interface, let probeTargets, let healAction,
            let stateDirectory, let controlSocket, groupOK, metricsOK, let mode, let logLevel, let maintenance
        else { return outcome }
        outcome.settings = NodeSettings(
            path: path, clusterFile: clusterFile, member: member, secretKeyFile: secretKeyFile, interface: interface,
            probeTargets: probeTargets, healAction: healAction, stateDirectory: stateDirectory, controlSocket: controlSocket,
            controlGroup: controlGroup, metricsListen: metricsListen, mode: mode, logLevel: logLevel,
            maintenanceWindows: maintenance)
        return outcome
    }

    // MARK: Fields

    private static func readMaintenanceWindows(_ top: MappingReader) -> MaintenanceSchedule? {
        guard let items = top.list("maintenance_windows", maximumCount: maximumMaintenanceWindows) else { return nil }
        var windows: [MaintenanceWindow] = []
        for (item, field) in items {
            guard let text = Scalars.string(item, field: field, problems: top.problems) else { continue }
            switch MaintenanceWindow.parse(text) {
            case .failure(let error): top.problems.add(item.sourceMark, field, "bad maintenance window: \(error)")
            case .success(let window): windows.append(window)
            }
        }
        return windows.count == items.count ? MaintenanceSchedule(windows: windows) : nil
    }

    private static func readProbeTargets(_ top: MappingReader) -> [ProbeTarget]? {
        guard let items = top.list("probe_targets", maximumCount: maximumProbeTargets) else { return nil }
        guard !items.isEmpty else {
            top.problems.add(top.valueMark("probe_targets"), "probe_targets", "needs at least one target — e.g. `gateway` and one or two anchors such as `icmp 1.1.1.1`")
            return nil
        }
        var result: [ProbeTarget] = []
        var seen: [ProbeTarget: Int] = [:]
        for (item, field) in items {
            guard let text = Scalars.string(item, field: field, problems: top.problems) else { continue }
            switch ProbeTarget.parse(text) {
            case .failure(let error):
                top.problems.add(item.sourceMark, field, "bad probe target `\(text)`: \(error)")
            case .success(let target):
                if let first = seen[target] {
                    top.problems.add(item.sourceMark, field, "duplicate probe target `\(target)` (line \(first)) — remove one")
                } else {
                    seen[target] = item.sourceMark.line
                    result.append(target)
                }
            }
        }
        return result.count == items.count ? result : nil
    }

    /// A timeout's position and field path (for the cross-file deadline check).
    typealias TimeoutMark = (mark: SourceMark, field: String)

    /// `heal_action`: a kind alone (`heal_action: ifupdown`) or a mapping with `kind`, `argv`,
    /// `timeout`, `escalation`, `escalate_after`.
    private static func readHealAction(
        _ node: Node, field: String, problems: ProblemCollector, timeoutMarks: inout [TimeoutMark]
    ) -> HealActionLadder? {
        guard case .mapping = node else {
            guard let (action, mark) = readStep(node, field: field, problems: problems) else { return nil }
            timeoutMarks = [mark]
            return HealActionLadder(primary: action)
        }
        guard let m = MappingReader(node, path: field, known: actionKeys, problems: problems, what: "a heal action") else { return nil }
        let primary = readAction(m)
        var marks: [TimeoutMark] = [(m.valueMark("timeout"), m.has("timeout") ? m.field("timeout") : field)]
        var escalation: [HealAction]? = []
        if let items = m.list("escalation", maximumCount: maximumEscalationSteps) {
            var steps: [HealAction] = []
            for (item, itemField) in items {
                guard let (action, mark) = readStep(item, field: itemField, problems: problems) else { continue }
                steps.append(action)
                marks.append(mark)
            }
            escalation = steps.count == items.count ? steps : nil
        } else if m.has("escalation") {
            escalation = nil
        }
        var escalateAfter: Int? = HealActionLadder.defaultEscalateAfterFailures
        if m.has("escalate_after") {
            escalateAfter = m.int("escalate_after", in: 1...100)
            if escalateAfter != nil, escalation?.isEmpty == true {
                problems.add(m.valueMark("escalate_after"), m.field("escalate_after"), "has no effect without `escalation` steps — remove it, or add an `escalation:` list")
                escalateAfter = nil
            }
        }
        guard let primary, let escalation, let escalateAfter else { return nil }
        timeoutMarks = marks
        return HealActionLadder(primary: primary, escalation: escalation, escalateAfterFailures: escalateAfter)
    }

    /// One action written as a kind alone (`ifupdown`) or as a mapping with `kind`, `argv`, `timeout`.
    private static func readStep(_ node: Node, field: String, problems: ProblemCollector) -> (HealAction, TimeoutMark)? {
        if case .mapping = node {
            guard let step = MappingReader(node, path: field, known: stepKeys, problems: problems, what: "a heal action"),
                let action = readAction(step)
            else { return nil }
            return (action, (step.valueMark("timeout"), step.has("timeout") ? step.field("timeout") : field))
        }
        guard let kind = Scalars.choice(node, HealAction.Kind.self, field: field, problems: problems) else { return nil }
        guard kind != .command else {
            problems.add(node.sourceMark, field, "kind `command` needs `argv` — write it as a mapping: `{kind: command, argv: [/usr/local/sbin/heal-net, eth0]}`")
            return nil
        }
        return (HealAction(kind: kind), (node.sourceMark, field))
    }

    /// Limits of an action's time settings.
    static let timeoutRange: ClosedRange<Duration> = .seconds(1)...(.seconds(600))
    static let verifyTimeoutRange: ClosedRange<Duration> = .zero...(.seconds(600))

    private static func readAction(_ m: MappingReader) -> HealAction? {
        let kind = m.required("kind", example: "ifupdown") != nil ? m.choice("kind", HealAction.Kind.self) : nil
        var ok = kind != nil
        var action = HealAction(kind: kind ?? .ifupdown)
        if m.has("timeout") {
            if let value = m.duration("timeout", in: timeoutRange) { action.timeout = value } else { ok = false }
        }
        if m.has("verify_timeout") {
            if let value = m.duration("verify_timeout", in: verifyTimeoutRange) { action.verifyTimeout = value } else { ok = false }
        }
        if m.has("fallback_restore") {
            if let value = m.bool("fallback_restore") { action.fallbackRestore = value } else { ok = false }
        }
        guard let kind else { return nil }
        if m.has("cycle") {
            if kind != .networkctl && kind != .nmcli {
                m.problems.add(m.valueMark("cycle"), m.field("cycle"), "`cycle` applies only to kinds `networkctl` and `nmcli` — remove it")
                ok = false
            } else if let value = m.choice("cycle", HealAction.CycleMode.self) {
                action.cycle = value
            } else {
                ok = false
            }
        }
        if m.has("extra_arguments") {
            if kind == .command || kind == .ipLink {
                m.problems.add(m.valueMark("extra_arguments"), m.field("extra_arguments"), "`extra_arguments` applies only to kinds `ifupdown`, `networkctl` and `nmcli` — remove it")
                ok = false
            } else if let items = m.list("extra_arguments", maximumCount: maximumArgv) {
                let arguments = items.compactMap { Scalars.string($0.node, field: $0.field, problems: m.problems) }
                if arguments.count == items.count { action.extraArguments = arguments } else { ok = false }
            } else {
                ok = false
            }
        }
        if kind == .command {
            if m.required("argv", example: "[/usr/local/sbin/heal-net, \"{interface}\"]") != nil, let argv = readArgv(m) {
                action.argv = argv
            } else {
                ok = false
            }
        } else if m.has("argv") {
            m.problems.add(m.valueMark("argv"), m.field("argv"), "`argv` applies only to kind `command` — remove it, or set `kind: command`")
            ok = false
        }
        return ok ? action : nil
    }

    private static func readArgv(_ m: MappingReader) -> [String]? {
        guard let items = m.list("argv", maximumCount: maximumArgv) else { return nil }
        guard !items.isEmpty else {
            m.problems.add(m.valueMark("argv"), m.field("argv"), "is empty — give the program's absolute path and its arguments")
            return nil
        }
        var argv: [String] = []
        for (item, field) in items {
            guard let arg = Scalars.string(item, field: field, problems: m.problems) else { continue }
            if arg.utf8.contains(0) {
                m.problems.add(item.sourceMark, field, "contains a NUL byte")
                continue
            }
            if argv.isEmpty, !arg.hasPrefix("/") {
                m.problems.add(item.sourceMark, field, "`\(arg)` is not an absolute path; the command runs without a shell or PATH search — write e.g. `/usr/sbin/\(arg)`")
                continue
            }
            argv.append(arg)
        }
        return argv.count == items.count ? argv : nil
    }

    /// A file path; relative paths resolve against `directory`.
    private static func filePath(_ top: MappingReader, _ key: String, directory: String) -> String? {
        guard let text = top.string(key) else { return nil }
        guard !text.isEmpty, !text.utf8.contains(0), text.utf8.count <= 4096 else {
            top.problems.add(top.valueMark(key), key, "is not a usable path")
            return nil
        }
        return PathText.resolve(text, against: directory)
    }

    private static func absolutePath(_ top: MappingReader, _ key: String, example: String) -> String? {
        guard let text = top.string(key) else { return nil }
        guard text.hasPrefix("/"), !text.utf8.contains(0), text.utf8.count <= 4096 else {
            top.problems.add(top.valueMark(key), key, "`\(text)` is not an absolute path — write e.g. `\(example)`")
            return nil
        }
        return text
    }

    private static func isGroupName(_ name: String) -> Bool {
        guard (1...32).contains(name.utf8.count), let first = name.unicodeScalars.first else { return false }
        guard first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}

/// Linux interface names: 1 to 15 bytes, no `/`, `:` or whitespace, not `.` or `..`.
public enum InterfaceName {
    /// Why `name` cannot be a Linux interface name, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty — give the managed interface's name, e.g. `eth0`" }
        if name.utf8.count > 15 { return "`\(name)` is \(name.utf8.count) bytes; Linux interface names have at most 15 — check `ip link`" }
        if name == "." || name == ".." { return "`\(name)` is not a valid interface name — check `ip link`" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) {
            return "`\(name)` contains `/`, `:`, whitespace or a control character, which Linux interface names cannot — check `ip link`"
        }
        return nil
    }
}

/// Path joining for configuration files (no filesystem access).
public enum PathText {
    /// `path` when absolute, otherwise `directory/path`.
    public static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if directory.isEmpty || directory == "." { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// The directory part of `path` (`.` when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
