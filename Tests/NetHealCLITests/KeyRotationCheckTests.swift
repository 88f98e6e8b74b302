import Foundation
import NetHealCLI
import NetHealConfig
import Testing

/// `config check` during a key rotation (docs/key-rotation.md): a node whose key matches either listed
/// key passes and says which; copies of the cluster file at different steps are explained.
@Suite("config check: key rotation")
struct KeyRotationCheckTests {
    /// Writes keys n1.key, n1.key.new, n2.key; returns their public key texts.
    private func keys(in dir: String) throws -> (old: String, new: String, n2: String) {
        (try KeygenCommand.generate(out: dir + "/n1.key"), try KeygenCommand.generate(out: dir + "/n1.key.new"), try KeygenCommand.generate(out: dir + "/n2.key"))
    }

    private func cluster(n1Keys: String, n2: String) -> String {
        """
        cluster_id: rot
        members:
          - {name: n1, addresses: ["198.18.1.1:7474"], \(n1Keys)}
          - {name: n2, addresses: ["198.18.1.2:7474"], public_key: \(n2)}

        """
    }

    private func node(key: String) -> String {
        "cluster_file: cluster.yaml\nmember: n1\nsecret_key_file: \(key)\ninterface: eth0\nprobe_targets: [gateway]\nheal_action: ifupdown\n"
    }

    @Test func eitherListedKeyPassesAndTheSummarySaysWhich() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let k = try keys(in: dir)
            try cluster(n1Keys: "public_key: \(k.old), next_public_key: \(k.new)", n2: k.n2).write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
            try node(key: "n1.key").write(toFile: dir + "/old.yaml", atomically: true, encoding: .utf8)
            try node(key: "n1.key.new").write(toFile: dir + "/new.yaml", atomically: true, encoding: .utf8)
            try node(key: "n2.key").write(toFile: dir + "/wrong.yaml", atomically: true, encoding: .utf8)

            let old = ConfigCheck.run(paths: [dir + "/old.yaml"], requireKeys: true)
            #expect(old.ok, "\(ConfigProblems(old.problems))")
            #expect(old.files[0].summary.contains("key matches public_key (old key; next_public_key is listed"))
            let new = ConfigCheck.run(paths: [dir + "/new.yaml"], requireKeys: true)
            #expect(new.ok, "\(ConfigProblems(new.problems))")
            #expect(new.files[0].summary.contains("key matches next_public_key (new key;"))
            let wrong = ConfigCheck.run(paths: [dir + "/wrong.yaml"], requireKeys: true)
            #expect(wrong.problems.count == 1)
            #expect(wrong.problems.first?.message.contains("and next_public_key \(k.new)") == true)

            let clusterOnly = ConfigCheck.run(paths: [dir + "/cluster.yaml"], requireKeys: false)
            #expect(clusterOnly.files[0].summary.hasSuffix("key rotation in progress for n1"))
        }
    }

    @Test func theNewKeyFailsUntilListed() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let k = try keys(in: dir)
            try cluster(n1Keys: "public_key: \(k.old)", n2: k.n2).write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
            try node(key: "n1.key").write(toFile: dir + "/old.yaml", atomically: true, encoding: .utf8)
            try node(key: "n1.key.new").write(toFile: dir + "/new.yaml", atomically: true, encoding: .utf8)
            let old = ConfigCheck.run(paths: [dir + "/old.yaml"], requireKeys: true)
            #expect(old.ok && old.files[0].summary.hasSuffix("key matches public_key"))
            let new = ConfigCheck.run(paths: [dir + "/new.yaml"], requireKeys: true)
            #expect(new.problems.map(\.field) == ["secret_key_file"])
        }
    }

    @Test func copiesAtNeighbouringStepsAreExplained() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let k = try keys(in: dir)
            try cluster(n1Keys: "public_key: \(k.old)", n2: k.n2).write(toFile: dir + "/v1.yaml", atomically: true, encoding: .utf8)
            try cluster(n1Keys: "public_key: \(k.old), next_public_key: \(k.new)", n2: k.n2).write(toFile: dir + "/v2.yaml", atomically: true, encoding: .utf8)
            try cluster(n1Keys: "public_key: \(k.new)", n2: k.n2).write(toFile: dir + "/v3.yaml", atomically: true, encoding: .utf8)
            let step = ConfigCheck.run(paths: [dir + "/v1.yaml", dir + "/v2.yaml"], requireKeys: false)
            #expect(!step.ok)
            #expect(step.problems.count == 1)
            #expect(step.problems[0].message.contains("views still verify across the copies: n1: keys differ but share ed25519:"))
            let skipped = ConfigCheck.run(paths: [dir + "/v1.yaml", dir + "/v3.yaml"], requireKeys: false)
            #expect(skipped.problems.count == 1)
            #expect(skipped.problems[0].message.contains("views are rejected across the copies: member 0 (`n1` / `n1`) has no key in common"))
        }
    }
}
