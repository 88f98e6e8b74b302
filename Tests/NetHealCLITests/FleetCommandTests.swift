import ArgumentParser
import Foundation
import NetHealCLI
import NetHealConfig
import Testing

@Suite("fleet init / add-key / assemble / check")
struct FleetCommandTests {
    static let nodes = """
        n1 198.18.1.11,198.18.2.11 rack-a
        n2 198.18.1.12,198.18.2.12 rack-a
        n3 198.18.1.13,198.18.2.13 rack-b
        """

    static func run(_ arguments: [String]) throws {
        var command = try NetHealClusterCommand.parseAsRoot(arguments)
        try command.run()
    }

    /// `fleet check DIR` as the exit status says: true when ready to deploy.
    static func check(_ dir: String) throws -> Bool {
        do {
            try run(["fleet", "check", dir])
            return true
        } catch let error as ExitCode where error == .failure {
            return false
        }
    }

    @Test func documentedFlowEndsInADeployableDirectory() throws {
        try CLITestFiles.withTemporaryDirectory { tmp in
            try Self.nodes.write(toFile: tmp + "/NODES.txt", atomically: true, encoding: .utf8)
            let dir = tmp + "/fleet"
            try Self.run(["fleet", "init", tmp + "/NODES.txt", "--cluster-id", "lab-1", "--out", dir])
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(names == ["cluster.yaml", "n1", "n2", "n3"])
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: dir + "/n2").sorted() == [
                    "cluster.yaml", "node.yaml",
                ])
            // Keys pending: not deployable yet.
            #expect(try Self.check(dir) == false)
            // init never overwrites.
            #expect(throws: (any Error).self) {
                try Self.run(["fleet", "init", tmp + "/NODES.txt", "--cluster-id", "lab-1", "--out", dir])
            }

            // Each node makes its key (here: into tmp); only the public key comes back.
            var publicKeys: [String: String] = [:]
            for name in ["n1", "n2", "n3"] { publicKeys[name] = try KeygenCommand.generate(out: "\(tmp)/\(name).key") }
            try Self.run(["fleet", "add-key", dir, "n1", publicKeys["n1"]!])
            try "n2 \(publicKeys["n2"]!)\nn3 \(publicKeys["n3"]!)\n".write(
                toFile: tmp + "/KEYS.txt", atomically: true, encoding: .utf8)
            try Self.run(["fleet", "assemble", dir, "--keys", tmp + "/KEYS.txt"])
            #expect(try Self.check(dir))

            // Every node's copy is byte-identical to the master and passes config check with its key.
            let master = try Data(contentsOf: URL(fileURLWithPath: dir + "/cluster.yaml"))
            for name in ["n1", "n2", "n3"] {
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)/cluster.yaml")) == master)
                let node = try String(contentsOfFile: "\(dir)/\(name)/node.yaml", encoding: .utf8)
                    .replacingOccurrences(
                        of: "secret_key_file: /etc/netheal/node.key", with: "secret_key_file: \(tmp)/\(name).key")
                try node.write(toFile: "\(dir)/\(name)/node.yaml", atomically: true, encoding: .utf8)
                let report = ConfigCheck.run(paths: ["\(dir)/\(name)/node.yaml"], requireKeys: true)
                #expect(report.ok, "\(report.text())")
            }

            // A fourth node joins at the end: directory, copies, pending key, then deployable again.
            try Self.run(["fleet", "add-node", dir, "n4", "198.18.1.14,198.18.2.14", "rack-c", "--interface", "eth1"])
            #expect(try Self.check(dir) == false)
            #expect(try String(contentsOfFile: dir + "/n4/node.yaml", encoding: .utf8).contains("interface: eth1\n"))
            #expect(throws: (any Error).self) { try Self.run(["fleet", "add-node", dir, "n4", "198.18.1.99"]) }
            try Self.run(["fleet", "add-key", dir, "n4", try KeygenCommand.generate(out: "\(tmp)/n4.key")])
            #expect(try Self.check(dir))
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: dir + "/n1/cluster.yaml"))
                    == (try Data(contentsOf: URL(fileURLWithPath: dir + "/cluster.yaml"))))

            // Rotation needs --rotate.
            let newKey = try KeygenCommand.generate(out: "\(tmp)/n2-new.key")
            #expect(throws: (any Error).self) { try Self.run(["fleet", "add-key", dir, "n2", newKey]) }
            try Self.run(["fleet", "add-key", "--rotate", dir, "n2", newKey])
            #expect(try String(contentsOfFile: dir + "/n3/cluster.yaml", encoding: .utf8).contains(newKey))
        }
    }

    @Test func checkReportsADivergingCopyAndAddKeyRefusesToOverwriteIt() throws {
        try CLITestFiles.withTemporaryDirectory { tmp in
            try Self.nodes.write(toFile: tmp + "/NODES.txt", atomically: true, encoding: .utf8)
            let dir = tmp + "/fleet"
            try Self.run(["fleet", "init", tmp + "/NODES.txt", "--cluster-id", "lab-2", "--out", dir])
            var lines = ""
            for name in ["n1", "n2", "n3"] {
                lines += "\(name) \(try KeygenCommand.generate(out: "\(tmp)/\(name).key"))\n"
            }
            try lines.write(toFile: tmp + "/KEYS.txt", atomically: true, encoding: .utf8)
            try Self.run(["fleet", "assemble", dir, "--keys", tmp + "/KEYS.txt"])
            #expect(try Self.check(dir))

            // Someone edits n3's copy: a valid file, but no longer the fleet's cluster file.
            let copy = dir + "/n3/cluster.yaml"
            let edited = try String(contentsOfFile: copy, encoding: .utf8).replacingOccurrences(
                of: "dry_run: false", with: "dry_run: true")
            try edited.write(toFile: copy, atomically: true, encoding: .utf8)
            #expect(try Self.check(dir) == false)
            let listing = ["\(dir)/cluster.yaml", "\(dir)/n1/node.yaml", "\(dir)/n2/node.yaml", "\(dir)/n3/node.yaml"]
            let report = ConfigCheck.run(paths: listing, requireKeys: false, checkKeys: false)
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.file == copy)
            #expect(
                report.problems.first?.message.contains("differs from \(dir)/cluster.yaml (digest blake2b:") == true)

            let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/cluster.yaml"))
            let newKey = try KeygenCommand.generate(out: "\(tmp)/n1-new.key")
            #expect(throws: (any Error).self) { try Self.run(["fleet", "add-key", "--rotate", dir, "n1", newKey]) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/cluster.yaml")) == before)
        }
    }

    @Test func badNodeListWritesNothing() throws {
        try CLITestFiles.withTemporaryDirectory { tmp in
            try "n1 198.18.1.11\nn1 198.18.1.12\n".write(toFile: tmp + "/NODES.txt", atomically: true, encoding: .utf8)
            #expect {
                try Self.run(["fleet", "init", tmp + "/NODES.txt", "--cluster-id", "x", "--out", tmp + "/out"])
            } throws: { error in
                "\(error)".contains("\(tmp)/NODES.txt:2:1: name: duplicate node `n1`")
            }
            #expect(!FileManager.default.fileExists(atPath: tmp + "/out"))
        }
    }
}
