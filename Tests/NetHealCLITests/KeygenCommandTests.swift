import ArgumentParser
import Foundation
import NetHealCLI
import NetHealConfig
import NetHealCore
import NetHealSodium
import Testing

@Suite("keygen")
struct KeygenCommandTests {
    @Test func writesA0600KeyFileAndPrintsItsPublicKey() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            let printed = try KeygenCommand.generate(out: path)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            // The printed key is in cluster-file form and belongs to the seed in the file:
            // a signature made with the file's seed verifies under the printed key.
            let key = try PublicKeyParsing.parse(printed).get()
            let seed = try SecretKeyFile.load(path: path)
            let signer = try Ed25519Signer(seed: seed)
            #expect(signer.publicKey == key)
            let message: [UInt8] = Array("netheal".utf8)
            #expect(Ed25519Verifier().verify(signature: signer.sign(message[...])[...], message: message[...], publicKey: key))
            #expect(printed == "ed25519:" + Hex.encode(key))
        }
    }

    @Test func twoKeysDiffer() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let a = try KeygenCommand.generate(out: dir + "/a.key")
            let b = try KeygenCommand.generate(out: dir + "/b.key")
            #expect(a != b)
        }
    }

    @Test func refusesToOverwriteAndKeepsTheOldKey() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            let first = try KeygenCommand.generate(out: path)
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect {
                _ = try KeygenCommand.generate(out: path)
            } throws: { error in
                "\(error)".contains("\(path): already exists; refusing to overwrite")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            // `--show` prints the same key as keygen did.
            let show = try #require(try NetHealClusterCommand.parseAsRoot(["keygen", "--show", path]) as? KeygenCommand)
            #expect(show.show == path)
            #expect(try KeygenCommand.publicKeyText(seed: SecretKeyFile.load(path: path)) == first)
        }
    }

    @Test func showRefusesAReadableKey() throws {
        try CLITestFiles.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            _ = try KeygenCommand.generate(out: path)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            let command = try #require(try NetHealClusterCommand.parseAsRoot(["keygen", "--show", path]) as? KeygenCommand)
            #expect {
                try command.run()
            } throws: { error in
                "\(error)" == "\(path): the secret key file is readable by group/others (mode 0644); run: chmod 600 \(path)"
            }
        }
    }
}

enum CLITestFiles {
    /// A fresh temporary directory, removed at the end of `body`.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netheal-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The example fleet's files: the cluster file and n1…n5.
    static var exampleFiles: [String] {
        let dir = repositoryRoot.appendingPathComponent("cluster-config/example")
        return ["cluster.yaml", "n1.yaml", "n2.yaml", "n3.yaml", "n4.yaml", "n5.yaml"].map { dir.appendingPathComponent($0).path }
    }
}
