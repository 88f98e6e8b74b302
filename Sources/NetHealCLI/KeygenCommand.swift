import ArgumentParser
import NetHealConfig
import NetHealCore
import NetHealSodium

/// `netheal-cluster keygen`: creates a node's Ed25519 secret key file and prints its public key.
public struct KeygenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create this node's Ed25519 secret key file and print its public key.",
        discussion: """
            Writes a new key file (one line `ed25519-seed:<64 hex digits>`, mode 0600, owned by the caller; an existing file is never overwritten) and prints the public key exactly as the cluster file's `public_key` takes it: `ed25519:<64 hex digits>`.

            Run it on the node the key belongs to; only the public key leaves the node. With --show, prints the public key of an existing key file instead (after the same permission checks the agent makes).
            """
    )

    /// Where to write the new secret key file.
    @Option(name: .long, help: ArgumentHelp("Path of the new secret key file (e.g. /etc/netheal/node.key).", valueName: "path"))
    public var out: String?

    /// An existing key file whose public key to print.
    @Option(name: .long, help: ArgumentHelp("Print the public key of this existing key file; write nothing.", valueName: "path"))
    public var show: String?

    public init() {}

    public func validate() throws {
        switch (out, show) {
        case (nil, nil): throw ValidationError("give --out PATH (create a key) or --show PATH (print the public key of one)")
        case (.some, .some): throw ValidationError("give either --out or --show, not both")
        default: break
        }
    }

    public func run() throws {
        if let show {
            let seed: [UInt8]
            do { seed = try SecretKeyFile.load(path: show) } catch { throw ConfigCommandError(error.description) }
            print(try Self.publicKeyText(seed: seed))
            return
        }
        guard let out else { return }
        print(try Self.generate(out: out))
    }

    /// Creates the key file at `out` and returns the public key text (`ed25519:<hex>`).
    public static func generate(out: String) throws -> String {
        let seed = try Sodium.randomBytes(SecretKeyFile.seedBytes)
        let publicKey = try publicKeyText(seed: seed)
        do { try SecretKeyFile.write(seed: seed, to: out) } catch { throw ConfigCommandError(error.description) }
        return publicKey
    }

    /// The public key text for a seed.
    public static func publicKeyText(seed: [UInt8]) throws -> String {
        PublicKeyText.format(try Ed25519Signer(seed: seed).publicKey)
    }
}

/// A failure of `keygen` or `config` whose message is complete (file, problem, fix); printed as
/// `Error: …`, exit status 1.
struct ConfigCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
