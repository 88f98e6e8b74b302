import ArgumentParser
import NetHealCLI
import Testing

@Suite("command-line parsing")
struct CLIParsingTests {
    @Test func keygenOut() throws {
        let command = try NetHealClusterCommand.parseAsRoot(["keygen", "--out", "/etc/netheal/node.key"])
        let keygen = try #require(command as? KeygenCommand)
        #expect(keygen.out == "/etc/netheal/node.key")
        #expect(keygen.show == nil)
    }

    @Test func keygenShow() throws {
        let keygen = try #require(try NetHealClusterCommand.parseAsRoot(["keygen", "--show", "k"]) as? KeygenCommand)
        #expect(keygen.show == "k" && keygen.out == nil)
    }

    @Test func keygenNeedsExactlyOneOfOutAndShow() {
        #expect(throws: (any Error).self) { try NetHealClusterCommand.parseAsRoot(["keygen"]) }
        #expect(throws: (any Error).self) { try NetHealClusterCommand.parseAsRoot(["keygen", "--out", "a", "--show", "b"]) }
        let message = NetHealClusterCommand.message(for: ValidationErrorProbe.keygenWithoutPath())
        #expect(message.contains("--out PATH"))
    }

    @Test func configCheckPathsAndFlags() throws {
        let command = try NetHealClusterCommand.parseAsRoot(["config", "check", "a.yaml", "b.yaml", "--json", "--require-keys"])
        let check = try #require(command as? ConfigCheckCommand)
        #expect(check.paths == ["a.yaml", "b.yaml"])
        #expect(check.json && check.requireKeys)
        let plain = try #require(try NetHealClusterCommand.parseAsRoot(["config", "check", "n1.yaml"]) as? ConfigCheckCommand)
        #expect(!plain.json && !plain.requireKeys)
    }

    @Test func configCheckNeedsAPath() {
        #expect(throws: (any Error).self) { try NetHealClusterCommand.parseAsRoot(["config", "check"]) }
    }

    @Test func unknownOptionIsRejected() {
        #expect(throws: (any Error).self) { try NetHealClusterCommand.parseAsRoot(["config", "check", "--jsn", "a.yaml"]) }
    }

    @Test func helpNamesTheSubcommands() {
        let help = NetHealClusterCommand.helpMessage()
        #expect(help.contains("keygen") && help.contains("config"))
        let checkHelp = NetHealClusterCommand.helpMessage(for: ConfigCheckCommand.self)
        #expect(checkHelp.contains("--require-keys") && checkHelp.contains("Exit status"))
    }
}

/// Produces the validation error `keygen` raises without a path, to check its message.
enum ValidationErrorProbe {
    static func keygenWithoutPath() -> any Error {
        do {
            _ = try NetHealClusterCommand.parseAsRoot(["keygen"])
            return CancellationError()
        } catch {
            return error
        }
    }
}
