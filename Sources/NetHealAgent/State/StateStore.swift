#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging

/// The agent's persistent state directory (default `/var/lib/netheal`): small JSON files, each
/// replaced atomically and fsynced (see `StateFileIO`).
///
/// Opening the store checks the directory: it is created 0700 when missing; an existing directory
/// must be owned by the running user and must not be writable by group or others (refused with a
/// clear error, because anyone who can write there can forge heal history and bypass pacing). Other
/// extra permission bits (e.g. systemd's default 0755) are tightened to 0700. Leftover temporary
/// files of an interrupted write are removed.
///
/// A file that cannot be read or decoded is never trusted: it is renamed to
/// `NAME.corrupt-<UTC timestamp>`, logged at error level, and reported as `.corrupt` so the caller
/// can choose a conservative replacement (see `load(_:ifMissing:ifCorrupt:)`).
public struct StateStore: Sendable {
    /// The absolute path of the state directory.
    public let directory: String
    /// Largest state file accepted, in bytes. Default 4 MiB.
    public static let maxFileBytes = 4 << 20

    private let logger: Logger
    private let wallClock: @Sendable () -> Date

    /// Opens (and if needed creates) the state directory; see the type's documentation for the checks.
    public init(
        directory: String,
        logger: Logger = Logger(label: "netheal.state"),
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) throws(StateStoreError) {
        guard directory.hasPrefix("/") else { throw .relativePath(directory) }
        var path = directory
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.directory = path
        self.logger = logger
        self.wallClock = wallClock
        try Self.prepareDirectory(path, logger: logger)
        try removeLeftoverTemporaries()
    }

    // MARK: Typed files

    /// Loads and decodes a file. A corrupt or unreadable file is moved aside and reported.
    public func load<Value>(_ file: StateFile<Value>) -> StateLoad<Value> {
        let path = self.path(of: file)
        let bytes: [UInt8]?
        do {
            bytes = try StateFileIO.readFile(path: path, limit: Self.maxFileBytes)
        } catch {
            return .corrupt(setAside(file, path: path, reason: error.description))
        }
        guard let bytes else { return .missing }
        do {
            return .loaded(try JSONDecoder().decode(Value.self, from: Data(bytes)))
        } catch {
            return .corrupt(setAside(file, path: path, reason: "not valid \(Value.self) JSON: \(error)"))
        }
    }

    /// Loads a file, substituting `ifMissing()` when it does not exist (first start) and
    /// `ifCorrupt()` when it was corrupt or unreadable (pass a *conservative* value here: for pacing
    /// state, a full backoff and a spent budget rather than an empty history).
    public func load<Value>(
        _ file: StateFile<Value>, ifMissing: () -> Value, ifCorrupt: (StateCorruption) -> Value
    ) -> Value {
        switch load(file) {
        case .loaded(let value): return value
        case .missing: return ifMissing()
        case .corrupt(let corruption): return ifCorrupt(corruption)
        }
    }

    /// Atomically replaces the file with `value` as JSON (temp file, fsync, rename, fsync directory).
    public func save<Value>(_ value: Value, to file: StateFile<Value>) throws(StateStoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw .encoding(path: path(of: file), message: "\(error)")
        }
        try StateFileIO.writeAtomically(Array(data), directory: directory, name: file.name)
    }

    /// Removes a file (durably); no error when it does not exist.
    public func remove<Value>(_ file: StateFile<Value>) throws(StateStoreError) {
        let path = self.path(of: file)
        if unlink(path) != 0 && errno != ENOENT { throw .io(path: path, operation: "unlink", errno: errno) }
        try StateFileIO.syncDirectory(directory)
    }

    /// The absolute path of a file in this store.
    public func path<Value>(of file: StateFile<Value>) -> String { directory + "/" + file.name }

    // MARK: Incarnation

    /// Loads the incarnation counter, adds one, persists it, and only then returns it, so every
    /// start (also in a crash loop) gets a strictly larger incarnation than any start before.
    ///
    /// The result is never below the current Unix time in seconds (at least 1): when the file is
    /// missing, corrupt, or restored from an old backup, the previous value is unknown, and the
    /// clock still exceeds the counter of any earlier run that did not start more than once per
    /// second on average.
    public func nextIncarnation() throws(StateStoreError) -> UInt64 {
        let clockFloor = UInt64(max(1, Int64(wallClock().timeIntervalSince1970)))
        var next = clockFloor
        if case .loaded(let record) = load(StateFile<IncarnationRecord>.incarnation), record.incarnation < UInt64.max {
            next = max(record.incarnation + 1, clockFloor)
        }
        try save(IncarnationRecord(incarnation: next), to: .incarnation)
        return next
    }

    // MARK: Directory checks

    private static func prepareDirectory(_ path: String, logger: Logger) throws(StateStoreError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else { throw .io(path: path, operation: "lstat", errno: errno) }
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw .io(path: path, operation: "mkdir", errno: errno)
            }
            guard lstat(path, &info) == 0 else { throw .io(path: path, operation: "lstat", errno: errno) }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path: path) }
        let uid = geteuid()
        guard info.st_uid == uid else { throw .wrongOwner(path: path, owner: info.st_uid, expected: uid) }
        let mode = UInt32(info.st_mode) & 0o7777
        guard mode & 0o022 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        if mode != 0o700 {
            guard chmod(path, 0o700) == 0 else { throw .io(path: path, operation: "chmod", errno: errno) }
            logger.notice("tightened state directory permissions", metadata: [
                "path": "\(path)", "from": "\(String(mode, radix: 8))", "to": "700",
            ])
        }
    }

    private func removeLeftoverTemporaries() throws(StateStoreError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .io(path: directory, operation: "list", errno: errno)
        }
        var removed = false
        for name in names.sorted() where name.contains(StateFileIO.temporaryMarker) {
            if unlink(directory + "/" + name) == 0 {
                removed = true
                logger.notice("removed leftover temporary state file", metadata: ["file": "\(name)"])
            }
        }
        if removed { try StateFileIO.syncDirectory(directory) }
    }

    private func setAside<Value>(_ file: StateFile<Value>, path: String, reason: String) -> StateCorruption {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: wallClock())
        var movedTo: String?
        for attempt in 0..<100 {
            let candidate = path + ".corrupt-" + stamp + (attempt == 0 ? "" : "-\(attempt)")
            if access(candidate, F_OK) == 0 { continue }
            if rename(path, candidate) == 0 {
                movedTo = candidate
                try? StateFileIO.syncDirectory(directory)
            }
            break
        }
        let corruption = StateCorruption(path: path, movedTo: movedTo, reason: reason)
        logger.error("state file is corrupt and is not trusted", metadata: [
            "file": "\(path)", "movedTo": "\(movedTo ?? "(could not move)")", "reason": "\(reason)",
        ])
        return corruption
    }
}

/// A typed name of one JSON file in the state directory.
public struct StateFile<Value: Codable & Sendable>: Sendable, Hashable {
    /// The file name inside the state directory: letters, digits, `.`, `_`, `-`.
    public let name: String

    /// A file name; it must be a plain name (no `/`, not starting with `.`, no `.tmp-`/`.corrupt-`).
    public init(_ name: String) {
        precondition(
            !name.isEmpty && !name.hasPrefix(".") && !name.contains(StateFileIO.temporaryMarker)
                && !name.contains(".corrupt-")
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) },
            "invalid state file name '\(name)'"
        )
        self.name = name
    }
}

/// What loading a state file found.
public enum StateLoad<Value: Sendable>: Sendable {
    /// The file does not exist (first start).
    case missing
    /// The file was read and decoded.
    case loaded(Value)
    /// The file was unreadable or undecodable; it has been moved aside and must not be trusted.
    case corrupt(StateCorruption)
}

/// A state file that could not be trusted, and where it was moved.
public struct StateCorruption: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file's path.
    public var path: String
    /// Where the file was moved (`PATH.corrupt-<timestamp>`), or nil when the rename failed.
    public var movedTo: String?
    /// Why it was not trusted.
    public var reason: String

    public var description: String {
        "state file '\(path)' is corrupt (\(reason)); "
            + (movedTo.map { "moved to '\($0)'" } ?? "could not move it aside") + "; not trusted"
    }
}

/// The persisted incarnation counter (`incarnation.json`).
public struct IncarnationRecord: Codable, Equatable, Sendable {
    /// The last incarnation handed out.
    public var incarnation: UInt64

    public init(incarnation: UInt64) { self.incarnation = incarnation }
}

extension StateFile where Value == IncarnationRecord {
    /// `incarnation.json`: the agent's incarnation counter.
    public static var incarnation: StateFile<IncarnationRecord> { StateFile("incarnation.json") }
}
