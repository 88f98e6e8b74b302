import NetHealCore
import Yams

/// Loads and validates configuration files. Every function either returns a complete, validated
/// value or throws every problem found (with file, line and column), never a partial result.
public enum ConfigLoader {
    // MARK: Files

    /// Loads a cluster file.
    public static func loadCluster(path: String) throws(ConfigProblems) -> ClusterConfiguration {
        let bytes = try readConfigFile(path)
        return try parseCluster(bytes, path: path)
    }

    /// Loads a node file and the cluster file it names, and checks that this node is a member.
    /// The secret key file is not read here (`SecretKeyFile.load(path:)` does that).
    public static func loadNode(path: String) throws(ConfigProblems) -> NodeConfiguration {
        let bytes = try readConfigFile(path)
        return try parseNode(bytes, path: path) { clusterPath throws(ConfigProblems) in
            try readConfigFile(clusterPath)
        }
    }

    /// Loads a file of either kind, telling them apart by their top-level keys.
    public static func load(path: String) throws(ConfigProblems) -> LoadedConfiguration {
        let bytes = try readConfigFile(path)
        let problems = ProblemCollector(file: path)
        guard let root = YAMLSource.compose(bytes, problems: problems) else { throw ConfigProblems(problems.sorted) }
        switch kind(of: root) {
        case .cluster:
            return .cluster(try parseCluster(bytes, path: path))
        case .node:
            return .node(try parseNode(bytes, path: path) { clusterPath throws(ConfigProblems) in try readConfigFile(clusterPath) })
        case nil:
            problems.add(
                root.sourceMark, "",
                "cannot tell whether this is a cluster file (keys `cluster_id`, `members`, `protocol`) or a node file (keys `member`, `cluster_file`, `interface`, …) — see docs/configuration.md")
            throw ConfigProblems(problems.sorted)
        }
    }

    // MARK: Bytes (no filesystem access except through `readCluster`)

    /// Parses and validates the bytes of a cluster file; `path` is used in problems.
    public static func parseCluster(_ bytes: [UInt8], path: String) throws(ConfigProblems) -> ClusterConfiguration {
        let problems = ProblemCollector(file: path)
        guard let cluster = ClusterFile.parse(bytes, path: path, problems: problems), problems.isEmpty else {
            throw ConfigProblems(problems.sorted)
        }
        return cluster
    }

    /// Parses and validates the bytes of a node file; `readCluster` supplies the bytes of the
    /// cluster file it names (resolved against the directory of `path`). Problems of both files
    /// are reported together, node file first.
    public static func parseNode(
        _ bytes: [UInt8], path: String, readCluster: (String) throws(ConfigProblems) -> [UInt8]
    ) throws(ConfigProblems) -> NodeConfiguration {
        let problems = ProblemCollector(file: path)
        let outcome = NodeFile.parse(bytes, path: path, directory: PathText.directory(of: path), problems: problems)
        var clusterProblems: [ConfigProblem] = []
        var cluster: ClusterConfiguration?
        if let clusterPath = outcome.clusterFile {
            do {
                let clusterBytes = try readCluster(clusterPath)
                cluster = try parseCluster(clusterBytes, path: clusterPath)
            } catch {
                let unreadable = error.problems.count == 1 && error.problems[0].file == clusterPath && error.problems[0].line == nil
                if unreadable {
                    problems.add(
                        outcome.clusterFileMark, "cluster_file",
                        "\(error.problems[0].message) (relative paths resolve against the node file's directory)")
                } else {
                    clusterProblems = error.problems
                }
            }
        }
        var index: MemberIndex?
        if let cluster, let member = outcome.member {
            index = cluster.index(named: member)
            if index == nil {
                let names = cluster.members.map(\.name)
                let listing = names.count <= 12 ? "members are " + names.map { "`\($0)`" }.joined(separator: ", ") : "\(names.count) members"
                problems.add(
                    outcome.memberMark, "member",
                    "this node `\(member)` is not a member of cluster `\(cluster.clusterID)` in \(cluster.path)"
                        + (Suggest.closest(to: member, among: names).map { " — did you mean `\($0)`?" } ?? " — add it to the cluster file's members")
                        + " (\(listing))")
            }
        }
        if let cluster, let actions = outcome.settings?.healAction.steps, actions.count == outcome.timeoutMarks.count {
            let deadline = cluster.settings.healActionDeadline
            for (action, at) in zip(actions, outcome.timeoutMarks) where action.worstCaseDuration >= deadline {
                let f = DurationText.format
                problems.add(
                    at.mark, at.field,
                    "the `\(action.kind.rawValue)` action may take \(f(action.worstCaseDuration)) (\(action.commandCount) × timeout \(f(action.timeout)) + verify_timeout \(f(action.verifyTimeout))), not less than the cluster's heal_action_deadline (\(f(deadline))), so the decision core would give up on it first — lower the timeouts or raise protocol.heal_action_deadline")
            }
        }
        let all = problems.sorted + clusterProblems
        guard all.isEmpty, let settings = outcome.settings, let cluster, let index else { throw ConfigProblems(all) }
        return NodeConfiguration(cluster: cluster, node: settings, memberIndex: index)
    }

    /// The kind of configuration file whose parsed root is `root`, or nil when its keys say neither.
    static func kind(of root: Node) -> ConfigFileKind? {
        guard case .mapping(let mapping) = root else { return nil }
        let keys = mapping.keys.compactMap(\.string)
        let cluster = keys.filter { ClusterFile.keys.contains($0) }.count
        let node = keys.filter { NodeFile.keys.contains($0) }.count
        if cluster > node { return .cluster }
        if node > cluster { return .node }
        return nil
    }

    /// The kind of the configuration file in `bytes` (nil when unparseable or ambiguous).
    public static func kind(of bytes: [UInt8]) -> ConfigFileKind? {
        let problems = ProblemCollector(file: "")
        return YAMLSource.compose(bytes, problems: problems).flatMap { kind(of: $0) }
    }

    /// Reads a configuration file (at most `YAMLSource.maximumBytes`), or a whole-file problem.
    static func readConfigFile(_ path: String) throws(ConfigProblems) -> [UInt8] {
        do {
            return try FileIO.readFile(path: path, limit: YAMLSource.maximumBytes)
        } catch {
            throw ConfigProblems([ConfigProblem(file: path, line: nil, column: nil, field: "", message: "cannot read the file: \(error)")])
        }
    }
}
