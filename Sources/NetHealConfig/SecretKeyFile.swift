#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NetHealCore

/// A node's Ed25519 secret key file: one line `ed25519-seed:<64 hex digits>` (the 32-byte seed from
/// which libsodium derives the key pair), owned by the user the agent runs as, mode 0600.
///
/// This layer does not link libsodium: it reads and writes the seed; `NetHealSodium.Ed25519Signer(seed:)`
/// turns it into a key pair.
public enum SecretKeyFile {
    /// The prefix of the file's one line.
    public static let prefix = "ed25519-seed:"
    /// Seed length in bytes.
    public static let seedBytes = 32
    /// Key files larger than this are refused unread.
    static let maximumBytes = 4096

    /// The exact file content for `seed`: `ed25519-seed:<hex>\n`.
    public static func render(seed: [UInt8]) -> [UInt8] {
        Array((prefix + Hex.encode(seed) + "\n").utf8)
    }

    /// The seed in `bytes` (one line, optional trailing newline), or the problem with its fix.
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigProblems) -> [UInt8] {
        func fail(_ message: String) -> ConfigProblems {
            ConfigProblems([ConfigProblem(file: file, line: 1, column: 1, field: "", message: message)])
        }
        let fix = "the file must hold one line `\(prefix)<64 hex digits>`; create a new key with `netheal-cluster keygen --out \(file)` (and update the member's public_key)"
        var body = bytes[...]
        if body.last == UInt8(ascii: "\n") { body = body.dropLast() }
        guard !body.contains(UInt8(ascii: "\n")), body.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw fail("malformed secret key file: \(fix)")
        }
        let text = String(decoding: body, as: UTF8.self)
        guard text.hasPrefix(prefix) else {
            throw fail("malformed secret key file: it does not start with `\(prefix)` — \(fix)")
        }
        let hex = text.dropFirst(prefix.count)
        guard hex.utf8.count == seedBytes * 2, let seed = Hex.decode(hex) else {
            throw fail("malformed secret key file: expected 64 hex digits after `\(prefix)` — \(fix)")
        }
        return seed
    }

    /// Loads the seed from `path`, refusing a file that group or others can access, a file owned by
    /// another (non-root) user, anything but a regular file, and malformed content.
    public static func load(path: String) throws(SecretKeyError) -> [UInt8] {
        func fail(_ reason: SecretKeyError.Reason, _ message: String) -> SecretKeyError {
            SecretKeyError(reason: reason, problem: ConfigProblem(file: path, line: nil, column: nil, field: "", message: message))
        }
        let fd: Int32
        do {
            fd = try FileIO.openFile(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        } catch {
            if error.errno == ENOENT {
                throw fail(.missing, "secret key file does not exist — create it on this node with `netheal-cluster keygen --out \(path)` and put the printed public key in the cluster file")
            }
            if error.errno == EACCES {
                throw fail(.permissionDenied, "cannot open the secret key file: permission denied — run as the user that owns it (root)")
            }
            throw fail(.io, "cannot open the secret key file: \(error)")
        }
        defer { close(fd) }
        let bytes: [UInt8]
        do {
            let status = try FileIO.status(fd)
            guard status.isRegularFile else {
                throw fail(.notRegularFile, "the secret key file is not a regular file — point secret_key_file at the file `netheal-cluster keygen` wrote")
            }
            if let why = permissionProblem(mode: status.mode) {
                throw fail(.insecurePermissions, "\(why) (mode \(octal(status.mode))); run: chmod 600 \(path)")
            }
            let me = FileIO.effectiveUserID
            guard status.owner == me || status.owner == 0 else {
                throw fail(.wrongOwner, "the secret key file is owned by uid \(status.owner), neither by uid \(me) that reads it nor by root — run: chown \(me) \(path)")
            }
            guard status.size <= maximumBytes else {
                throw fail(.malformed, "the secret key file is \(status.size) bytes; a key file is one short line — is this the right file?")
            }
            bytes = try FileIO.readAll(fd, limit: maximumBytes, path: path)
        } catch let error as SecretKeyError {
            throw error
        } catch {
            throw fail(.io, "cannot read the secret key file: \(error)")
        }
        do {
            return try parse(bytes, file: path)
        } catch {
            throw SecretKeyError(reason: .malformed, problem: error.problems[0])
        }
    }

    /// Why `mode` is too open for a secret key, or nil when only the owner has access.
    public static func permissionProblem(mode: UInt32) -> String? {
        if mode & 0o044 != 0 { return "the secret key file is readable by group/others" }
        if mode & 0o022 != 0 { return "the secret key file is writable by group/others" }
        if mode & 0o011 != 0 { return "the secret key file is accessible by group/others" }
        return nil
    }

    /// Writes a new key file for `seed` at `path`: created exclusively (an existing file is never
    /// overwritten) with mode 0600, fsynced, and its directory fsynced. On failure nothing is left behind.
    public static func write(seed: [UInt8], to path: String) throws(ConfigProblems) {
        func fail(_ message: String) -> ConfigProblems {
            ConfigProblems([ConfigProblem(file: path, line: nil, column: nil, field: "", message: message)])
        }
        precondition(seed.count == seedBytes, "a seed has \(seedBytes) bytes")
        let fd: Int32
        do {
            fd = try FileIO.openFile(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
        } catch {
            if error.errno == EEXIST {
                throw fail("already exists; refusing to overwrite a key — move it away first if you really mean to replace this node's identity (then update its public_key in the cluster file)")
            }
            if error.errno == ENOENT {
                throw fail("cannot create the key file: its directory does not exist — create it (e.g. `install -d -m 0700 \(PathText.directory(of: path))`)")
            }
            throw fail("cannot create the key file: \(error)")
        }
        do {
            // The umask may only remove bits; set 0600 explicitly so the mode never depends on it.
            try FileIO.fchmodFile(fd, 0o600)
            try FileIO.writeAll(fd, render(seed: seed))
            try FileIO.fsyncFile(fd)
        } catch {
            close(fd)
            FileIO.unlinkFile(path)
            throw fail("cannot write the key file: \(error) — nothing was kept")
        }
        do {
            try FileIO.closeFile(fd)
        } catch {
            FileIO.unlinkFile(path)
            throw fail("cannot write the key file: \(error) — nothing was kept")
        }
        do {
            try FileIO.fsyncDirectory(PathText.directory(of: path))
        } catch {
            throw fail("the key file was written but its directory could not be synced: \(error)")
        }
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// Why a secret key file was refused: the reason (for callers that treat some reasons differently,
/// e.g. `config check` on a machine that is not the node) and the problem with its fix.
public struct SecretKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Reason: Hashable, Sendable {
        case missing, permissionDenied, notRegularFile, insecurePermissions, wrongOwner, malformed, io
        /// The key is well-formed but its public key is not the member's `public_key`.
        case mismatch
    }

    /// Why the file was refused.
    public var reason: Reason
    /// The problem, naming the file and the fix.
    public var problem: ConfigProblem

    public init(reason: Reason, problem: ConfigProblem) {
        self.reason = reason
        self.problem = problem
    }

    public var description: String { problem.description }
}
