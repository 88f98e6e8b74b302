import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A two-namespace lab for probe tests: `a` (the prober) and `b` (the target), joined by a veth pair
/// with 198.18.61.1/24 (a) and 198.18.61.2/24 (b), plus 2001:2:0:61::1/64 and ::2 (RFC 5180
/// benchmarking prefix). Names are unique per process and lab; `destroy()` deletes everything, and
/// creating a lab first deletes labs left behind by test processes that no longer exist.
final class ProbeLab: @unchecked Sendable {
    static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: ipPath)
    static let skipReason: Comment = "network-namespace probe tests need root (CAP_SYS_ADMIN, CAP_NET_RAW) and iproute2"
    static let ipPath =
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/sbin/ip"
    nonisolated(unsafe) private static var counter = 0
    private static let counterLock = NSLock()

    let nsA: String
    let nsB: String
    let vethA: String
    let vethB: String
    let addressA = "198.18.61.1"
    let addressB = "198.18.61.2"
    let address6A = "2001:2:0:61::1"
    let address6B = "2001:2:0:61::2"
    private var destroyed = false

    init() throws {
        Self.removeStaleLabs()
        let index = Self.counterLock.withLock {
            Self.counter += 1
            return Self.counter
        }
        let pid = getpid()
        nsA = "nhp-\(pid)-\(index)-a"
        nsB = "nhp-\(pid)-\(index)-b"
        vethA = "nhpa\(pid % 1_000_000)x\(index)"
        vethB = "nhpb\(pid % 1_000_000)x\(index)"
        do {
            try Self.ip("netns", "add", nsA)
            try Self.ip("netns", "add", nsB)
            try Self.ip("link", "add", vethA, "type", "veth", "peer", "name", vethB)
            try Self.ip("link", "set", vethA, "netns", nsA)
            try Self.ip("link", "set", vethB, "netns", nsB)
            try ip(nsA, "addr", "add", "\(addressA)/24", "dev", vethA)
            try ip(nsB, "addr", "add", "\(addressB)/24", "dev", vethB)
            try ip(nsA, "addr", "add", "\(address6A)/64", "dev", vethA, "nodad")
            try ip(nsB, "addr", "add", "\(address6B)/64", "dev", vethB, "nodad")
            for (ns, dev) in [(nsA, vethA), (nsB, vethB), (nsA, "lo"), (nsB, "lo")] {
                try ip(ns, "link", "set", dev, "up")
            }
        } catch {
            destroy()
            throw error
        }
    }

    deinit { destroy() }

    /// Deletes both namespaces (which deletes the veth pair). Safe to call twice.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        try? Self.ip("netns", "del", nsA)
        try? Self.ip("netns", "del", nsB)
        try? Self.ip("link", "del", vethA)  // only if it never moved into a namespace
    }

    /// `ip -n NS args…`.
    func ip(_ ns: String, _ arguments: String...) throws {
        try Self.run(Self.ipPath, ["-n", ns] + arguments)
    }

    /// Runs `body` on a new thread that has joined `ns`'s network namespace (setns(2)); sockets it
    /// creates live in that namespace. The calling thread is blocked until `body` returns.
    func run<T: Sendable>(in ns: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let fd = open("/run/netns/\(ns)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                box.result = .failure(LabError("open /run/netns/\(ns): \(String(cString: strerror(errno)))"))
                return
            }
            defer { close(fd) }
            guard setNetworkNamespace(fd) == 0 else {
                box.result = .failure(LabError("setns(\(ns)): \(String(cString: strerror(errno)))"))
                return
            }
            box.result = Result { try body() }
        }
        thread.start()
        done.wait()
        return try box.result!.get()
    }

    /// A TCP listener in `ns` on `address:port` (the kernel completes handshakes without accept()).
    /// Returns the descriptor; close it when done.
    func listenTCP(in ns: String, address: String, port: UInt16) throws -> Int32 {
        try run(in: ns) {
            let ipv6 = address.contains(":")
            let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var rc: Int32
            if ipv6 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                inet_pton(AF_INET6, address, &sin6.sin6_addr)
                rc = withUnsafePointer(to: &sin6) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                inet_pton(AF_INET, address, &sin.sin_addr)
                rc = withUnsafePointer(to: &sin) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard rc == 0, listen(fd, 16) == 0 else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw LabError("bind/listen \(address):\(port): \(message)")
            }
            return fd
        }
    }

    // MARK: - Helpers

    static func ip(_ arguments: String...) throws { try run(ipPath, arguments) }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw LabError("\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    /// Deletes `nhp-PID-…` namespaces whose test process is gone (a crashed or killed earlier run).
    static func removeStaleLabs() {
        guard let list = try? run(ipPath, ["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard parts.count == 4, parts[0] == "nhp", let pid = Int32(parts[1]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? ip("netns", "del", name) }
        }
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// setns(2) is not exported by the Glibc module (it needs _GNU_SOURCE): look it up in libc.
private func setNetworkNamespace(_ fd: Int32) -> Int32 {
    typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
        errno = ENOSYS
        return -1
    }
    let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET
    return unsafeBitCast(symbol, to: SetNS.self)(fd, cloneNewNet)
}
