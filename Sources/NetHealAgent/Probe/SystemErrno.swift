#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An errno value with its symbolic name (`ENETUNREACH`), as reported in probe results and logs.
public struct SystemErrno: Hashable, Sendable, CustomStringConvertible {
    /// The numeric errno.
    public var code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The symbolic name (`"ENETUNREACH"`), or `"errno N"` for values outside the table.
    public var name: String { Self.names[code] ?? "errno \(code)" }

    /// `ENETUNREACH: Network is unreachable`.
    public var description: String {
        guard let message = strerror(code) else { return name }
        return "\(name): \(String(cString: message))"
    }

    public static let networkUnreachable = SystemErrno(ENETUNREACH)
    public static let hostUnreachable = SystemErrno(EHOSTUNREACH)
    public static let networkDown = SystemErrno(ENETDOWN)
    public static let noDevice = SystemErrno(ENODEV)
    public static let connectionRefused = SystemErrno(ECONNREFUSED)
    public static let notPermitted = SystemErrno(EPERM)

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        ENODEV: "ENODEV", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOSPC: "ENOSPC",
        EPIPE: "EPIPE", ENONET: "ENONET", EMSGSIZE: "EMSGSIZE", EPROTOTYPE: "EPROTOTYPE",
        ENOPROTOOPT: "ENOPROTOOPT", EPROTONOSUPPORT: "EPROTONOSUPPORT", EOPNOTSUPP: "EOPNOTSUPP",
        EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
        ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH", ENETRESET: "ENETRESET",
        ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS", EISCONN: "EISCONN",
        ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED", EHOSTDOWN: "EHOSTDOWN",
        EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY", EINPROGRESS: "EINPROGRESS",
    ]
}
