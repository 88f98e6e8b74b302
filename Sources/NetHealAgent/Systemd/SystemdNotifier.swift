#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Speaks systemd's notify protocol (`sd_notify(3)`): one datagram per message to the Unix socket
/// named in `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
///
/// Without `NOTIFY_SOCKET` (not started by systemd, or `Type=simple`) every call is a no-op.
/// Messages are sent synchronously from the calling thread; a send error is returned to the caller
/// (log it; never fail the daemon because the service manager is gone).
public struct SystemdNotifier: Sendable {
    /// Where messages go, or nil when the process was not started with `NOTIFY_SOCKET`.
    public let socketAddress: String?
    /// The watchdog timeout systemd enforces (`WATCHDOG_USEC`), when it is meant for this process.
    public let watchdogTimeout: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    /// A `WATCHDOG_PID` other than `processID` means the watchdog is not ours: `watchdogTimeout` is nil.
    public init(environment: [String: String], processID: Int32? = nil) {
        let processID = processID ?? Posix.processID()
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketAddress = socket
        var timeout: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            timeout = .microseconds(usec)
        }
        if let pidText = environment["WATCHDOG_PID"], Int32(pidText) != processID {
            timeout = nil
        }
        watchdogTimeout = timeout
    }

    /// A notifier for this process, reading the process environment. With `unsetEnvironment`
    /// (the default) `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` are removed afterwards so
    /// heal commands (ifup, dhclient hooks) do not inherit them.
    public static func fromProcessEnvironment(unsetEnvironment: Bool = true) -> SystemdNotifier {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
            if unsetEnvironment { unsetenv(name) }
        }
        return SystemdNotifier(environment: environment)
    }

    /// True when messages actually go somewhere.
    public var isEnabled: Bool { socketAddress != nil }

    // MARK: - Messages

    /// `READY=1`: configured and listening. `status` is sent with it as `STATUS=`.
    public func ready(status: String? = nil) throws {
        try send(["READY=1"] + statusLine(status))
    }

    /// `WATCHDOG=1`. Only a `WatchdogGate` should call this.
    public func watchdog() throws {
        try send(["WATCHDOG=1"])
    }

    /// `STATUS=…`: one line shown by `systemctl status`. Newlines are replaced by spaces.
    public func status(_ text: String) throws {
        try send(statusLine(text))
    }

    /// `STOPPING=1`: graceful shutdown has begun.
    public func stopping(status: String? = nil) throws {
        try send(["STOPPING=1"] + statusLine(status))
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (required by systemd 253+ for `Type=notify-reload`,
    /// ignored by 252). Send `ready()` when the reload is done.
    public func reloading(status: String? = nil) throws {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(Posix.monotonicMicroseconds())"] + statusLine(status))
    }

    /// Sends the given `KEY=value` lines as one datagram (no-op without `NOTIFY_SOCKET`).
    public func send(_ lines: [String]) throws {
        guard let socketAddress, !lines.isEmpty else { return }
        let (address, length) = try Self.unixAddress(socketAddress)
        let fd = try Posix.socket(domain: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue), protocol: 0, nonBlocking: false)
        defer { Posix.close(fd) }
        try Posix.sendTo(fd, Array(lines.joined(separator: "\n").utf8), unixAddress: address, length: length)
    }

    /// The exact datagram text `send` would write for `lines` (for logs and tests).
    public static func datagram(_ lines: [String]) -> String { lines.joined(separator: "\n") }

    private func statusLine(_ status: String?) -> [String] {
        guard let status else { return [] }
        return ["STATUS=" + status.map { $0.isNewline ? " " : String($0) }.joined()]
    }

    /// `sockaddr_un` for a path or `@abstract` name, with the length `sendto` needs.
    static func unixAddress(_ name: String) throws -> (sockaddr_un, Int) {
        var bytes = Array(name.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, abstract || bytes.first == UInt8(ascii: "/") else {
            throw SyscallError(
                call: "NOTIFY_SOCKET=\(name) (needs an absolute path or @name under \(capacity) bytes)",
                errno: SystemErrno(EINVAL))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        // Abstract names are exactly their bytes; paths include the terminating NUL.
        return (address, pathOffset + bytes.count + (abstract ? 0 : 1))
    }
}
