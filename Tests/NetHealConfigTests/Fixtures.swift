import Foundation
import NetHealConfig
import Testing

/// Small valid files and helpers to break them one way at a time.
enum Fixtures {
    static let keyA = "ed25519:" + String(repeating: "a1", count: 32)
    static let keyB = "ed25519:" + String(repeating: "b2", count: 32)
    static let keyC = "ed25519:" + String(repeating: "c3", count: 32)

    static let cluster = """
        cluster_id: test-fleet
        members:
          - name: n1
            addresses: ["198.18.1.1:7474", "198.18.2.1:7474"]
            public_key: \(keyA)
          - name: n2
            addresses: ["198.18.1.2:7474", "[2001:db8::2]:7474"]
            public_key: \(keyB)
            failure_domain: rack-b
          - name: n3
            addresses: ["198.18.1.3:7474"]
            public_key: \(keyC)
        protocol:
          gossip_interval: 500ms
          failure_rounds: 4
          isolation_policy: hold
        """

    static let node = """
        cluster_file: cluster.yaml
        member: n2
        secret_key_file: keys/node.key
        interface: eth0
        probe_targets:
          - gateway
          - icmp 198.18.0.1
          - tcp [2001:db8::53]:53
        heal_action:
          kind: ip-link
          escalation:
            - ifupdown
            - kind: command
              argv: [/usr/local/sbin/heal-net, eth0]
              timeout: 1m30s
          escalate_after: 2
        metrics_listen: "[::1]:9465"
        mode: dry-run
        """

    /// Parses a cluster file from text.
    static func parseCluster(_ text: String, path: String = "cluster.yaml") throws(ConfigProblems) -> ClusterConfiguration {
        try ConfigLoader.parseCluster(Array(text.utf8), path: path)
    }

    /// Parses a node file at `/etc/netheal/node.yaml` whose cluster file text is `cluster`.
    static func parseNode(_ text: String, cluster: String = Fixtures.cluster) throws(ConfigProblems) -> NodeConfiguration {
        try ConfigLoader.parseNode(Array(text.utf8), path: "/etc/netheal/node.yaml") { path throws(ConfigProblems) in
            guard path == "/etc/netheal/cluster.yaml" else {
                throw ConfigProblems([ConfigProblem(file: path, line: nil, column: nil, field: "", message: "cannot read the file: open: No such file or directory")])
            }
            return Array(cluster.utf8)
        }
    }

    /// The problems parsing `text` as a cluster file yields (recording an issue when it parses).
    static func clusterProblems(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigProblem] {
        do {
            _ = try parseCluster(text)
            Issue.record("expected problems, the file was accepted", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }

    /// The problems parsing `text` as a node file yields.
    static func nodeProblems(_ text: String, cluster: String = Fixtures.cluster, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigProblem] {
        do {
            _ = try parseNode(text, cluster: cluster)
            Issue.record("expected problems, the file was accepted", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }

    /// 1-based number of the first line of `text` containing `needle`.
    static func line(of needle: String, in text: String) -> Int? {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }

    /// Replaces exactly one occurrence of `old` (recording an issue otherwise).
    static func replacing(_ old: String, with new: String, in text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let count = text.components(separatedBy: old).count - 1
        if count != 1 { Issue.record("`\(old)` occurs \(count) times in the fixture", sourceLocation: sourceLocation) }
        return text.replacingOccurrences(of: old, with: new)
    }

    /// A fresh temporary directory, removed by `body`'s end.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netheal-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }
}

/// Asserts that exactly one problem in `problems` has `field`, sits on `line`, and mentions every `text`.
func expectProblem(
    _ problems: [ConfigProblem], field: String, line: Int?, mentions texts: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let matches = problems.filter { $0.field == field }
    guard matches.count == 1, let problem = matches.first else {
        Issue.record("expected one problem on `\(field)`, got:\n\(ConfigProblems(problems))", sourceLocation: sourceLocation)
        return
    }
    #expect(problem.line == line, "\(problem)", sourceLocation: sourceLocation)
    for text in texts {
        #expect(problem.message.contains(text), "`\(text)` not in: \(problem)", sourceLocation: sourceLocation)
    }
    #expect(problem.description.hasPrefix("\(problem.file):\(line.map(String.init) ?? "")"), sourceLocation: sourceLocation)
}
