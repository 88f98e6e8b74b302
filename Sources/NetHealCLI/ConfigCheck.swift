import Foundation
import NetHealConfig
import NetHealCore
import NetHealSodium

/// The result of checking configuration files: per-file summaries, problems, warnings.
public struct ConfigCheckReport: Sendable, Equatable {
    /// One checked file.
    public struct FileResult: Sendable, Equatable, Codable {
        /// The path as given.
        public var path: String
        /// `cluster`, `node`, or nil when it could not be told.
        public var kind: String?
        /// True when it has no problem.
        public var ok: Bool
        /// A one-line summary of what it configures (empty when not OK).
        public var summary: String
    }

    /// Every checked file, in the order given.
    public var files: [FileResult] = []
    /// Every problem, in path order, then by position; each printed once.
    public var problems: [ConfigProblem] = []
    /// Things that do not make the check fail (e.g. a key file absent on this machine).
    public var warnings: [ConfigProblem] = []

    /// True when there is no problem.
    public var ok: Bool { problems.isEmpty }

    /// Human output: problems, warnings, per-file OK lines, and a final count line.
    public func text() -> String {
        var lines: [String] = problems.map(\.description)
        lines += warnings.map { "warning: \($0)" }
        lines += files.filter(\.ok).map { "OK \($0.path): \($0.summary)" }
        let bad = files.filter { !$0.ok }.count
        if problems.isEmpty {
            lines.append("\(files.count) file\(files.count == 1 ? "" : "s") OK" + (warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"))
        } else {
            lines.append("\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(max(bad, 1)) of \(files.count) file\(files.count == 1 ? "" : "s")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON output: `{"ok":…, "files":[…], "problems":[…], "warnings":[…]}` with sorted keys.
    public func json() -> String {
        struct Item: Codable {
            var file: String
            var line: Int?
            var column: Int?
            var field: String
            var message: String
        }
        struct Document: Codable {
            var ok: Bool
            var files: [FileResult]
            var problems: [Item]
            var warnings: [Item]
        }
        func item(_ p: ConfigProblem) -> Item { Item(file: p.file, line: p.line, column: p.column, field: p.field, message: p.message) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let document = Document(ok: ok, files: files, problems: problems.map(item), warnings: warnings.map(item))
        let data = (try? encoder.encode(document)) ?? Data("{\"ok\":false}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// `config check`: loads each file, checks key files and consistency between files.
public enum ConfigCheck {
    /// Checks `paths` (cluster or node files). With `requireKeys`, a missing or unreadable secret key
    /// file is a problem; otherwise a warning.
    public static func run(paths: [String], requireKeys: Bool) -> ConfigCheckReport {
        var report = ConfigCheckReport()
        var seen = Set<ConfigProblem>()
        func problem(_ p: ConfigProblem) { if seen.insert(p).inserted { report.problems.append(p) } }

        var clusters: [(path: String, cluster: ClusterConfiguration)] = []
        var claims: [String: (path: String, member: String)] = [:]
        for path in paths {
            do {
                switch try ConfigLoader.load(path: path) {
                case .cluster(let cluster):
                    report.files.append(.init(path: path, kind: "cluster", ok: true, summary: summary(cluster)))
                    clusters.append((path, cluster))
                case .node(let node):
                    var nodeOK = true
                    for finding in keyFindings(node) {
                        if finding.isProblem || requireKeys {
                            problem(finding.problem)
                            nodeOK = false
                        } else {
                            report.warnings.append(finding.problem)
                        }
                    }
                    let claimKey = "\(node.cluster.clusterID)\u{0}\(node.node.member)"
                    if let first = claims[claimKey] {
                        problem(ConfigProblem(
                            file: path, line: nil, column: nil, field: "member",
                            message: "claims member `\(node.node.member)`, as \(first.path) does — each node needs its own node file with its own member"))
                        nodeOK = false
                    } else {
                        claims[claimKey] = (path, node.node.member)
                    }
                    report.files.append(.init(path: path, kind: "node", ok: nodeOK, summary: nodeOK ? summary(node) : ""))
                    clusters.append((node.node.clusterFile, node.cluster))
                }
            } catch {
                for p in error.problems { problem(p) }
                let kind = (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { ConfigLoader.kind(of: [UInt8]($0)) }
                report.files.append(.init(path: path, kind: kind?.rawValue, ok: false, summary: ""))
            }
        }
        for p in divergingCopies(clusters) { problem(p) }
        return report
    }

    // MARK: Keys

    struct KeyFinding {
        var problem: ConfigProblem
        /// False for findings that only mean "cannot check here" (missing file, permission denied).
        var isProblem: Bool
    }

    /// The node's key file: readable, private, and matching the member's public key.
    static func keyFindings(_ node: NodeConfiguration) -> [KeyFinding] {
        do {
            _ = try node.loadSecretKey { seed in try Ed25519Signer(seed: seed).publicKey }
            return []
        } catch {
            // Attributed to the node file, so the line says which node's key it is.
            let problem = ConfigProblem(
                file: node.node.path, line: nil, column: nil, field: "secret_key_file",
                message: "\(node.node.secretKeyFile): \(error.problem.message)")
            switch error.reason {
            case .missing, .permissionDenied: return [KeyFinding(problem: problem, isProblem: false)]
            default: return [KeyFinding(problem: problem, isProblem: true)]
            }
        }
    }

    // MARK: Between files

    /// Cluster files with the same cluster id whose bytes differ.
    static func divergingCopies(_ clusters: [(path: String, cluster: ClusterConfiguration)]) -> [ConfigProblem] {
        var first: [String: (path: String, bytes: [UInt8])] = [:]
        var out: [ConfigProblem] = []
        var reported = Set<String>()
        for (path, cluster) in clusters {
            guard let reference = first[cluster.clusterID] else {
                first[cluster.clusterID] = (path, cluster.fileBytes)
                continue
            }
            guard reference.bytes != cluster.fileBytes, reported.insert(path).inserted else { continue }
            out.append(ConfigProblem(
                file: path, line: nil, column: nil, field: "",
                message: "differs from \(reference.path) (digest \(digestText(cluster.fileBytes)) vs \(digestText(reference.bytes))) though both are cluster `\(cluster.clusterID)` — every node must hold a byte-identical cluster file; copy the same file everywhere"))
        }
        return out
    }

    // MARK: Summaries

    /// `blake2b:` and the first 8 bytes (hex) of the BLAKE2b-256 digest of `bytes`.
    public static func digestText(_ bytes: [UInt8]) -> String {
        guard let digest = try? Sodium.blake2b(bytes[...], length: 32) else { return "blake2b:unavailable" }
        return "blake2b:" + Hex.encode(digest.prefix(8))
    }

    static func summary(_ cluster: ClusterConfiguration) -> String {
        "cluster `\(cluster.clusterID)`, \(cluster.members.count) member\(cluster.members.count == 1 ? "" : "s"), digest \(digestText(cluster.fileBytes))"
    }

    static func summary(_ node: NodeConfiguration) -> String {
        let n = node.node
        var parts = [
            "member \(n.member) (\(node.memberIndex)) of `\(node.cluster.clusterID)` (\(node.cluster.path), digest \(digestText(node.cluster.fileBytes)))",
            "interface \(n.interface)",
            "probes " + n.probeTargets.map(\.description).joined(separator: ", "),
            "heal \(n.healAction.primary.kind.rawValue)" + (n.healAction.escalation.isEmpty ? "" : " then " + n.healAction.escalation.map(\.kind.rawValue).joined(separator: ", ")),
            "mode \(node.settings.dryRun ? "dry-run" : "heal")",
        ]
        if let metrics = n.metricsListen { parts.append("metrics \(metrics)") }
        return parts.joined(separator: "; ")
    }
}
