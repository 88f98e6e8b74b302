import NetHealCore
import Yams

/// Interprets the node file (without its cluster file; `ConfigLoader` joins the two).
enum NodeFile {
    /// The top-level keys of a node file.
    static let keys = [
        "cluster_file", "member", "secret_key_file", "interface", "probe_targets", "heal_action",
        "state_dir", "control_socket", "control_group", "metrics_listen", "mode", "log_level",
    ]
    static let actionKeys = ["kind", "argv", "timeout", "escalation", "escalate_after"]
    static let escalationKeys = ["kind", "argv", "timeout"]

    /// Default of `secret_key_file`.
    static let defaultSecretKeyFile = "/etc/netheal/node.key"
    /// Limits.
    static let maximumProbeTargets = 16
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
        var timeoutMarks: [(mark: SourceMark, field: String)] = []
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
        var timeoutMarks: [(mark: SourceMark, field: String)] = []
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

        var outcome = Outcome(
            clusterFile: clusterFile, clusterFileMark: top.valueMark("cluster_file"), member: member, memberMark: top.valueMark("member"),
            timeoutMarks: timeoutMarks)
        guard problems.isEmpty, let clusterFile, let member, let secretKeyFile, let interface, let probeTargets, let healAction,
            let stateDirectory, let controlSocket, groupOK, metricsOK, let mode, let logLevel
        else { return outcome }
        outcome.settings = NodeSettings(
            path: path, clusterFile: clusterFile, member: member, secretKeyFile: secretKeyFile, interface: interface,
            probeTargets: probeTargets, healAction: healAction, stateDirectory: stateDirectory, controlSocket: controlSocket,
            controlGroup: controlGroup, metricsListen: metricsListen, mode: mode, logLevel: logLevel)
        return outcome
    }

    // MARK: Fields

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

    /// `heal_action`: a kind alone (`heal_action: ifupdown`) or a mapping with `kind`, `argv`, `timeout`, `escalation`.
    private static func readHealAction(
        _ node: Node, field: String, problems: ProblemCollector, timeoutMarks: inout [(mark: SourceMark, field: String)]
    ) -> HealActionSettings? {
        if case .scalar = node {
            guard let kind = Scalars.choice(node, HealActionKind.self, field: field, problems: problems) else { return nil }
            if kind == .command {
                problems.add(node.sourceMark, field, "kind `command` needs `argv` — write `heal_action: {kind: command, argv: [/usr/local/sbin/heal-net, eth0]}`")
                return nil
            }
            timeoutMarks = [(node.sourceMark, field)]
            return HealActionSettings(primary: HealAction(kind: kind))
        }
        guard let m = MappingReader(node, path: field, known: actionKeys, problems: problems, what: "a heal action") else { return nil }
        let primary = readAction(m)
        var marks = [(m.valueMark("timeout"), m.has("timeout") ? m.field("timeout") : field)]
        var escalation: [HealAction]? = []
        if let items = m.list("escalation", maximumCount: maximumEscalationSteps) {
            var steps: [HealAction] = []
            for (item, itemField) in items {
                if case .scalar = item, let kind = Scalars.choice(item, HealActionKind.self, field: itemField, problems: problems) {
                    if kind == .command {
                        problems.add(item.sourceMark, itemField, "kind `command` needs `argv` — write it as a mapping with `kind` and `argv`")
                    } else {
                        steps.append(HealAction(kind: kind))
                        marks.append((item.sourceMark, itemField))
                    }
                } else if case .scalar = item {
                    continue
                } else if let step = MappingReader(item, path: itemField, known: escalationKeys, problems: problems, what: "a heal action"),
                    let action = readAction(step)
                {
                    steps.append(action)
                    marks.append((step.valueMark("timeout"), step.has("timeout") ? step.field("timeout") : itemField))
                }
            }
            escalation = steps.count == items.count ? steps : nil
        } else if m.has("escalation") {
            escalation = nil
        }
        var escalateAfter: Int? = HealActionSettings.defaultEscalateAfterFailures
        if m.has("escalate_after") {
            escalateAfter = m.int("escalate_after", in: 1...100)
            if escalateAfter != nil, escalation?.isEmpty == true {
                problems.add(m.valueMark("escalate_after"), m.field("escalate_after"), "has no effect without `escalation` steps — remove it, or add an `escalation:` list")
                escalateAfter = nil
            }
        }
        guard let primary, let escalation, let escalateAfter else { return nil }
        timeoutMarks = marks
        return HealActionSettings(primary: primary, escalation: escalation, escalateAfterFailures: escalateAfter)
    }

    private static func readAction(_ m: MappingReader) -> HealAction? {
        guard m.required("kind", example: "ifupdown") != nil, let kind = m.choice("kind", HealActionKind.self) else {
            if m.has("timeout") { _ = m.duration("timeout", in: .seconds(1)...(.seconds(600))) }
            return nil
        }
        var timeout: Duration? = HealAction.defaultTimeout
        if m.has("timeout") { timeout = m.duration("timeout", in: .seconds(1)...(.seconds(600))) }
        var argv: [String]? = []
        if kind == .command {
            if m.required("argv", example: "[/usr/local/sbin/heal-net, eth0]") != nil {
                argv = readArgv(m)
            } else {
                argv = nil
            }
        } else if m.has("argv") {
            m.problems.add(m.valueMark("argv"), m.field("argv"), "`argv` applies only to kind `command` — remove it, or set `kind: command`")
            argv = nil
        }
        guard let timeout, let argv else { return nil }
        return HealAction(kind: kind, argv: argv, timeout: timeout)
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
