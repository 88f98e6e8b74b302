import ArgumentParser
import Foundation
import NetHealCLI
import NetHealConfig
import Testing

@Suite("config check")
struct ConfigCheckTests {
    @Test func exampleFleetPasses() throws {
        let report = ConfigCheck.run(paths: CLITestFiles.exampleFiles, requireKeys: false)
        #expect(report.files.count == 6)
        #expect(report.files.map(\.kind) == ["cluster", "node", "node", "node", "node", "node"])
        // The example's key path is /etc/netheal/node.key; only on a machine that has one could a
        // key problem appear, and nothing else may.
        #expect(report.problems.filter { $0.field != "secret_key_file" }.isEmpty, "\(ConfigProblems(report.problems))")
        if !FileManager.default.fileExists(atPath: "/etc/netheal/node.key") {
            #expect(report.ok)
            #expect(report.warnings.count == 5)
            #expect(report.warnings.allSatisfy { $0.message.contains("does not exist") })
            #expect(report.text().hasSuffix("6 files OK, 5 warnings\n"))
            let command = try #require(try NetHealClusterCommand.parseAsRoot(["config", "check"] + CLITestFiles.exampleFiles) as? ConfigCheckCommand)
            try command.run()
        }
        #expect(report.files.filter(\.ok).allSatisfy { $0.summary.contains("blake2b:") })
    }

    @Test func missingKeyIsAProblemWithRequireKeys() {
        let report = ConfigCheck.run(paths: [CLITestFiles.exampleFiles[1]], requireKeys: true)
        if !FileManager.default.fileExists(atPath: "/etc/netheal/node.key") {
            #expect(!report.ok)
            #expect(report.problems.map(\.field) == ["secret_key_file"])
        }
    }

    @Test func brokenFileFailsWithFileLineAndNonZeroExit() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let cluster = try String(contentsOfFile: CLITestFiles.exampleFiles[0], encoding: .utf8)
            let broken = cluster.replacingOccurrences(of: "  failure_rounds: 3", with: "  failure_rounds: 0")
                .replacingOccurrences(of: "- name: n4", with: "- name: n3")
            try broken.write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
            let report = ConfigCheck.run(paths: [dir + "/cluster.yaml"], requireKeys: false)
            let lines = broken.split(separator: "\n", omittingEmptySubsequences: false)
            let nameLine = lines.lastIndex { $0.contains("- name: n3") }! + 1
            let roundsLine = lines.firstIndex { $0.contains("failure_rounds: 0") }! + 1
            #expect(report.problems.map(\.description) == [
                "\(dir)/cluster.yaml:\(nameLine):11: members[3].name: duplicate member name `n3` (first at line \(nameLine - 4)) — every member needs its own name",
                "\(dir)/cluster.yaml:\(roundsLine):19: protocol.failure_rounds: 0 is out of range — use a value from 1 to 100",
            ])
            #expect(report.text().hasSuffix("2 problems in 1 of 1 file\n"))
            let command = try #require(try NetHealClusterCommand.parseAsRoot(["config", "check", dir + "/cluster.yaml"]) as? ConfigCheckCommand)
            #expect(throws: ExitCode.failure) { try command.run() }
        }
    }

    @Test func jsonOutputCarriesEveryProblem() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try "cluster_id: a\nmembers: []\nprotocol: {probe_timeout: 5}\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
            let report = ConfigCheck.run(paths: [dir + "/c.yaml"], requireKeys: false)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
            #expect(object["ok"] as? Bool == false)
            let problems = try #require(object["problems"] as? [[String: Any]])
            #expect(problems.map { $0["line"] as? Int } == [2, 3])
            #expect(problems.map { $0["field"] as? String } == ["members", "protocol.probe_timeout"])
        }
    }

    /// A cluster of two members whose keys were made by keygen, and a node file for n1.
    private func makeFleet(in dir: String, keyFor n1Key: String) throws {
        let k1 = try KeygenCommand.generate(out: dir + "/n1.key")
        let k2 = try KeygenCommand.generate(out: dir + "/n2.key")
        try """
        cluster_id: keys
        members:
          - {name: n1, addresses: ["198.18.1.1:7474"], public_key: \(k1)}
          - {name: n2, addresses: ["198.18.1.2:7474"], public_key: \(k2)}
        """.write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
        try """
        cluster_file: cluster.yaml
        member: n1
        secret_key_file: \(n1Key)
        interface: eth0
        probe_targets: [gateway]
        heal_action: ifupdown
        """.write(toFile: dir + "/node.yaml", atomically: true, encoding: .utf8)
    }

    @Test func keyMatchingTheMemberPasses() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try makeFleet(in: dir, keyFor: "n1.key")
            let report = ConfigCheck.run(paths: [dir + "/node.yaml"], requireKeys: true)
            #expect(report.ok, "\(ConfigProblems(report.problems))")
            #expect(report.warnings.isEmpty)
        }
    }

    @Test func keyOfAnotherMemberIsReported() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try makeFleet(in: dir, keyFor: "n2.key")
            let report = ConfigCheck.run(paths: [dir + "/node.yaml"], requireKeys: false)
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.field == "secret_key_file")
            #expect(report.problems.first?.message.contains("\(dir)/n2.key: this key's public key is ed25519:") == true)
            #expect(report.problems.first?.message.contains("but member `n1` in \(dir)/cluster.yaml has ed25519:") == true)
        }
    }

    @Test func readableKeyIsAProblemEvenWithoutRequireKeys() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try makeFleet(in: dir, keyFor: "n1.key")
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: dir + "/n1.key")
            let report = ConfigCheck.run(paths: [dir + "/node.yaml"], requireKeys: false)
            #expect(report.problems.map(\.message) == ["\(dir)/n1.key: the secret key file is readable by group/others (mode 0640); run: chmod 600 \(dir)/n1.key"])
        }
    }

    @Test func divergingClusterCopiesAndDoubleClaimsAreReported() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
            try makeFleet(in: dir + "/a", keyFor: "n1.key")
            let cluster = try String(contentsOfFile: dir + "/a/cluster.yaml", encoding: .utf8)
            try (cluster + "\n# edited on b\n").write(toFile: dir + "/b/cluster.yaml", atomically: true, encoding: .utf8)
            try String(contentsOfFile: dir + "/a/node.yaml", encoding: .utf8)
                .replacingOccurrences(of: "n1.key", with: "/nonexistent/n1.key")
                .write(toFile: dir + "/b/node.yaml", atomically: true, encoding: .utf8)
            let report = ConfigCheck.run(paths: [dir + "/a/node.yaml", dir + "/b/node.yaml"], requireKeys: false)
            #expect(report.problems.count == 2)
            #expect(report.problems.contains { $0.file == dir + "/b/node.yaml" && $0.message.contains("claims member `n1`, as \(dir)/a/node.yaml does") })
            #expect(report.problems.contains { $0.file == dir + "/b/cluster.yaml" && $0.message.contains("differs from \(dir)/a/cluster.yaml") })
        }
    }

    @Test func fileOfNeitherKind() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            try "hello: world\n".write(toFile: dir + "/x.yaml", atomically: true, encoding: .utf8)
            let report = ConfigCheck.run(paths: [dir + "/x.yaml", dir + "/missing.yaml"], requireKeys: false)
            #expect(report.problems.count == 2)
            #expect(report.problems[0].message.contains("cannot tell whether this is a cluster file"))
            #expect(report.problems[1].description == "\(dir)/missing.yaml: cannot read the file: open: No such file or directory")
        }
    }
}
