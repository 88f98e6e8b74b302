// The one file of raw system calls used by probes and the systemd notifier.
// Every wrapper checks its return code and throws a `SyscallError` naming the call and errno
// (style: swift-nio `Sources/NIOPosix/System.swift`). Nothing else in the agent calls libc directly.
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: which call, and the errno it returned.
public struct SyscallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C function that failed, e.g. `"sendto"`.
    public var call: String
    /// The errno it set.
    public var errno: SystemErrno

    public init(call: String, errno: SystemErrno) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(errno)" }
}

/// Thin, checked wrappers over the libc calls the agent needs. Internal: callers see typed results.
enum Posix {
    /// `socket(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when asked).
    static func socket(domain: Int32, type: Int32, protocol proto: Int32, nonBlocking: Bool = true) throws -> Int32 {
        var flags = type | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { flags |= Int32(SOCK_NONBLOCK.rawValue) }
        #if canImport(Glibc)
        let fd = Glibc.socket(domain, flags, proto)
        #else
        let fd = Musl.socket(domain, flags, proto)
        #endif
        guard fd >= 0 else { throw error("socket") }
        return fd
    }

    /// `close(2)`; errors are ignored on purpose (the descriptor is gone either way on Linux).
    static func close(_ fd: Int32) {
        _ = systemClose(fd)
    }

    /// `setsockopt(2)` for a trivially copyable value.
    static func setOption<T>(_ fd: Int32, level: Int32, name: Int32, value: T) throws {
        var value = value
        let rc = withUnsafePointer(to: &value) {
            setsockopt(fd, level, name, $0, socklen_t(MemoryLayout<T>.size))
        }
        guard rc == 0 else { throw error("setsockopt") }
    }

    /// `setsockopt(SO_BINDTODEVICE)`: the socket only sends and receives through `interface`.
    /// Needs CAP_NET_RAW. A missing interface fails with ENODEV.
    static func bindToDevice(_ fd: Int32, interface: String) throws {
        let rc = interface.withCString { name in
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
        }
        guard rc == 0 else { throw error("setsockopt(SO_BINDTODEVICE)") }
    }

    /// `getsockopt(SO_ERROR)`: the pending asynchronous error of a socket (0 if none).
    static func pendingError(_ fd: Int32) throws -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        let rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        guard rc == 0 else { throw error("getsockopt(SO_ERROR)") }
        return value
    }

    /// `sendto(2)` of one datagram to `address`; returns the bytes sent.
    static func sendTo(_ fd: Int32, _ bytes: [UInt8], address: SocketAddress) throws -> Int {
        let sent = bytes.withUnsafeBytes { buffer in
            address.withSockAddr { pointer, length in
                retryingEINTR {
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), pointer, socklen_t(length))
                }
            }
        }
        guard sent >= 0 else { throw error("sendto") }
        return sent
    }

    /// `sendto(2)` to a Unix datagram socket given as raw `sockaddr_un` bytes (abstract names need the length).
    static func sendTo(_ fd: Int32, _ bytes: [UInt8], unixAddress: sockaddr_un, length: Int) throws {
        var address = unixAddress
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    retryingEINTR {
                        sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), pointer, socklen_t(length))
                    }
                }
            }
        }
        guard sent >= 0 else { throw error("sendto") }
        guard sent == bytes.count else {
            throw SyscallError(call: "sendto (short write)", errno: SystemErrno(EMSGSIZE))
        }
    }

    /// Non-blocking `recvfrom(2)`: the datagram's bytes and its source, or nil when nothing is queued.
    static func receiveFrom(_ fd: Int32, capacity: Int) throws -> (bytes: [UInt8], source: SocketAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    retryingEINTR { recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), pointer, &length) }
                }
            }
        }
        if count < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw SyscallError(call: "recvfrom", errno: SystemErrno(code))
        }
        return (Array(buffer.prefix(count)), socketAddress(storage))
    }

    /// Non-blocking `connect(2)`: true when connected at once, false when in progress (EINPROGRESS).
    static func connect(_ fd: Int32, to address: SocketAddress) throws -> Bool {
        let rc = address.withSockAddr { pointer, length in
            systemConnect(fd, pointer, socklen_t(length))
        }
        if rc == 0 { return true }
        let code = errno
        if code == EINPROGRESS || code == EINTR { return false }
        throw SyscallError(call: "connect", errno: SystemErrno(code))
    }

    /// `poll(2)` over `fds` for at most `timeoutMilliseconds`; returns the number of ready descriptors.
    static func poll(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws -> Int {
        let count = fds.withUnsafeMutableBufferPointer { buffer in
            systemPoll(buffer.baseAddress, nfds_t(buffer.count), timeoutMilliseconds)
        }
        if count < 0 {
            let code = errno
            if code == EINTR { return 0 }
            throw SyscallError(call: "poll", errno: SystemErrno(code))
        }
        return Int(count)
    }

    /// `if_nametoindex(3)`: the interface's index, or ENODEV when it does not exist.
    static func interfaceIndex(_ name: String) throws -> UInt32 {
        let index = if_nametoindex(name)
        guard index != 0 else { throw error("if_nametoindex") }
        return index
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in microseconds (for systemd's `MONOTONIC_USEC=`).
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        let rc = clock_gettime(CLOCK_MONOTONIC, &now)
        precondition(rc == 0, "clock_gettime(CLOCK_MONOTONIC) cannot fail on Linux")
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// Reads a small file (procfs) up to `limit` bytes with `open`/`read`/`close`, as UTF-8 text.
    static func readSmallFile(_ path: String, limit: Int) throws -> String {
        String(decoding: try readSmallFileBytes(path, limit: limit), as: UTF8.self)
    }

    /// The first `limit` bytes of a file (read until end of file or the limit).
    static func readSmallFileBytes(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open(\(path))") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(limit, 4096))
        var filled = 0
        while filled < limit {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(limit - filled, bytes.count))) }
            let count = bytes.withUnsafeMutableBytes { raw in
                retryingEINTR { read(fd, raw.baseAddress! + filled, raw.count - filled) }
            }
            guard count >= 0 else { throw error("read(\(path))") }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// The process id (`getpid(2)`, cannot fail).
    static func processID() -> Int32 { getpid() }

    // MARK: - Helpers

    private static func error(_ call: String) -> SyscallError {
        SyscallError(call: call, errno: SystemErrno(errno))
    }

    private static func retryingEINTR(_ body: () -> Int) -> Int {
        while true {
            let result = body()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }

    private static func socketAddress(_ storage: sockaddr_storage) -> SocketAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) }
            }
        default:
            return nil
        }
    }
}

// Unambiguous names for libc functions that Swift types shadow.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}
private func systemPoll(_ fds: UnsafeMutablePointer<pollfd>?, _ count: nfds_t, _ timeout: Int32) -> Int32 {
    poll(fds, count, timeout)
}
