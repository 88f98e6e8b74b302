/// Why the state directory or one of its files could not be used. Every case names the path and
/// says what to do about it.
public enum StateStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The state directory path is not absolute.
    case relativePath(String)
    /// The path exists but is not a directory (or is a symlink).
    case notADirectory(path: String)
    /// The directory belongs to another user than the one running the agent.
    case wrongOwner(path: String, owner: UInt32, expected: UInt32)
    /// The directory is writable by group or others: anyone could forge heal history or intents.
    case insecurePermissions(path: String, mode: UInt32)
    /// A state file is not a regular file.
    case notRegularFile(path: String)
    /// A state file is larger than the store accepts.
    case tooLarge(path: String, size: Int, limit: Int)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)
    /// A value could not be encoded to JSON.
    case encoding(path: String, message: String)

    public var description: String {
        switch self {
        case .relativePath(let path):
            return "state directory '\(path)' is not an absolute path; give a path such as /var/lib/netheal"
        case .notADirectory(let path):
            return "state directory '\(path)' exists but is not a directory (symlinks are refused); remove it or pick another path"
        case .wrongOwner(let path, let owner, let expected):
            return "state directory '\(path)' is owned by uid \(owner), not by the agent's uid \(expected); "
                + "fix with: chown \(expected) '\(path)' && chmod 0700 '\(path)'"
        case .insecurePermissions(let path, let mode):
            return "state directory '\(path)' has mode \(String(mode, radix: 8)) and is writable by group or others; "
                + "refusing to trust heal state in it; fix with: chmod 0700 '\(path)'"
        case .notRegularFile(let path):
            return "state file '\(path)' is not a regular file; remove it"
        case .tooLarge(let path, let size, let limit):
            return "state file '\(path)' has \(size) bytes, more than the limit of \(limit)"
        case .io(let path, let operation, let code):
            return "state I/O failed: \(operation) '\(path)': \(errnoText(code))"
        case .encoding(let path, let message):
            return "cannot encode state for '\(path)': \(message)"
        }
    }
}
