import Foundation
import NetHealConfig
import Testing

@Suite("secret key files")
struct SecretKeyFileTests {
    let seed: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xff) }

    @Test func writeCreatesMode0600AndLoadRoundTrips() throws {
        try Fixtures.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            let oldMask = umask(0)  // the file must be 0600 whatever the umask
            defer { umask(oldMask) }
            try SecretKeyFile.write(seed: seed, to: path)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let content = try String(contentsOfFile: path, encoding: .utf8)
            #expect(content == "ed25519-seed:00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9\n")
            #expect(try SecretKeyFile.load(path: path) == seed)
        }
    }

    @Test func writeRefusesToOverwrite() throws {
        try Fixtures.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            try "keep me".write(toFile: path, atomically: false, encoding: .utf8)
            #expect {
                try SecretKeyFile.write(seed: seed, to: path)
            } throws: { error in
                (error as? ConfigProblems)?.description.contains("already exists; refusing to overwrite") == true
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        }
    }

    @Test(arguments: [(0o644, "readable by group/others (mode 0644)"), (0o640, "readable by group/others (mode 0640)"), (0o620, "writable by group/others (mode 0620)"), (0o604, "readable by group/others (mode 0604)")])
    func loadRefusesOpenPermissions(mode: Int, expected: String) throws {
        try Fixtures.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            try SecretKeyFile.write(seed: seed, to: path)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            do throws(SecretKeyError) {
                _ = try SecretKeyFile.load(path: path)
                Issue.record("loaded a key file with mode \(String(mode, radix: 8))")
            } catch {
                #expect(error.reason == .insecurePermissions)
                #expect(error.description == "\(path): the secret key file is \(expected); run: chmod 600 \(path)")
            }
        }
    }

    @Test func loadRefusesMissingFileWithTheKeygenHint() {
        let path = "/nonexistent-netheal-test/node.key"
        do {
            _ = try SecretKeyFile.load(path: path)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.reason == .missing)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(error.description.contains("netheal-cluster keygen --out \(path)"))
        }
    }

    @Test(arguments: [
        "ed25519-seed:abcd\n",
        "ed25519:" + String(repeating: "ab", count: 32) + "\n",
        "ed25519-seed:" + String(repeating: "zz", count: 32) + "\n",
        "ed25519-seed:" + String(repeating: "ab", count: 32) + "\nextra\n",
        "",
    ])
    func loadRefusesMalformedContent(content: String) throws {
        try Fixtures.withTemporaryDirectory { dir in
            let path = dir + "/node.key"
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
            #expect(fd >= 0)
            _ = content.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
            do throws(SecretKeyError) {
                _ = try SecretKeyFile.load(path: path)
                Issue.record("loaded malformed content \(content.debugDescription)")
            } catch {
                #expect(error.reason == .malformed)
                #expect(error.description.hasPrefix(path + ":1:1: malformed secret key file"))
                #expect(error.description.contains("keygen --out"))
            }
        }
    }

    @Test func loadRefusesADirectory() throws {
        try Fixtures.withTemporaryDirectory { dir in
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
            #expect { _ = try SecretKeyFile.load(path: dir) } throws: { ($0 as? SecretKeyError)?.reason == .notRegularFile }
        }
    }

    @Test func acceptsAFileWithoutTrailingNewline() throws {
        let text = "ed25519-seed:" + String(repeating: "0f", count: 32)
        #expect(try SecretKeyFile.parse(Array(text.utf8), file: "k") == [UInt8](repeating: 0x0f, count: 32))
    }
}
