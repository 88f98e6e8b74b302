import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sockets the lab opens itself: inside a lab namespace (the flood sender, the wire tap), on an
/// agent's control socket (timed `status` calls), and as the agents' systemd notify socket.
public enum LabSockets {
    /// `CLONE_NEWNET` (sched.h).
    static let cloneNewNet: Int32 = 0x4000_0000
    /// `ETH_P_ALL` (linux/if_ether.h): every protocol.
    static let ethernetAll: UInt16 = 0x0003

    /// A libc function Swift's Glibc module does not import (GNU extensions), looked up by name.
    static func libc<F>(_ name: String, as type: F.Type) -> F {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else {
            fatalError("libc has no \(name)")
        }
        return unsafeBitCast(symbol, to: type)
    }

    /// `setns(2)`.
    static let setns = libc("setns", as: (@convention(c) (Int32, Int32) -> Int32).self)

    /// Runs `body` on a new thread that has joined network namespace `namespace` (`setns(2)` is per
    /// thread, so the rest of the process stays where it is); waits and returns its result. A socket
    /// created in `body` belongs to that namespace for its whole life, whichever thread uses it later.
    static func inNamespace<T: Sendable>(_ namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let fd = open("/run/netns/" + namespace, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                box.result = .failure(LabError("cannot open /run/netns/\(namespace): \(String(cString: strerror(errno)))"))
                return
            }
            defer { close(fd) }
            guard setns(fd, cloneNewNet) == 0 else {
                box.result = .failure(LabError("setns into \(namespace): \(String(cString: strerror(errno)))"))
                return
            }
            box.result = Result { try body() }
        }
        thread.name = "lab-netns"
        thread.start()
        done.wait()
        guard let result = box.result else { throw LabError("the namespace thread for \(namespace) returned nothing") }
        return try result.get()
    }

    /// A UDP socket in `namespace` connected to `address:port` (send buffer 4 MiB).
    static func connectedUDP(in namespace: String, to address: String, port: Int) throws -> Int32 {
        try inNamespace(namespace) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
            var size: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var remote = sockaddr_in()
            remote.sin_family = sa_family_t(AF_INET)
            remote.sin_port = in_port_t(UInt16(port).bigEndian)
            remote.sin_addr.s_addr = inet_addr(address)
            let rc = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard rc == 0 else {
                close(fd)
                throw LabError("connect to \(address):\(port) in \(namespace): \(String(cString: strerror(errno)))")
            }
            return fd
        }
    }

    /// An `AF_PACKET` socket in `namespace` that sees every frame on `interface`, in and out (a
    /// mirror port); reads time out after 200 ms.
    static func packetTap(in namespace: String, interface: String) throws -> Int32 {
        try inNamespace(namespace) {
            let all = ethernetAll.bigEndian
            let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(all))
            guard fd >= 0 else { throw LabError("AF_PACKET socket: \(String(cString: strerror(errno)))") }
            var link = LinkLayerAddress()
            link.sll_family = UInt16(AF_PACKET)
            link.sll_protocol = all
            link.sll_ifindex = Int32(if_nametoindex(interface))
            guard link.sll_ifindex > 0 else {
                close(fd)
                throw LabError("no interface \(interface) in \(namespace)")
            }
            let rc = withUnsafePointer(to: &link) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<LinkLayerAddress>.size))
                }
            }
            guard rc == 0 else {
                close(fd)
                throw LabError("bind AF_PACKET to \(interface): \(String(cString: strerror(errno)))")
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
    }

    /// A `sockaddr_un` for `path`, with its length.
    static func unixAddress(_ path: String) throws -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8) + [0]
        guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else {
            throw LabError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return (address, socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count))
    }

    /// One `{"command":"status"}` exchange on an agent's control socket (the protocol of
    /// `netheal-cluster status`, without starting a process): the answer's `status` object and the
    /// time the exchange took (connect, request, answer), or an error.
    public static func status(controlSocket path: String, timeout: Double = 2) throws -> (
        status: [String: Any], seconds: Double
    ) {
        let start = DispatchTime.now()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var (address, length) = try unixAddress(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else { throw LabError("connect \(path): \(String(cString: strerror(errno)))") }
        let request = Array("{\"command\":\"status\"}\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            throw LabError("write \(path): \(String(cString: strerror(errno)))")
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while answer.last != UInt8(ascii: "\n") {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw LabError("no complete answer on \(path) (\(count < 0 ? String(cString: strerror(errno)) : "EOF"))")
            }
            answer += chunk[0..<count]
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any],
            object["ok"] as? Bool == true, let status = object["status"] as? [String: Any]
        else { throw LabError("the answer on \(path) is not an ok status: \(String(decoding: answer.prefix(200), as: UTF8.self))") }
        return (status, seconds)
    }
}

/// `struct sockaddr_ll` (linux/if_packet.h; not imported by Swift's Glibc module): same layout, 20 bytes.
struct LinkLayerAddress {
    var sll_family: UInt16 = 0
    var sll_protocol: UInt16 = 0
    var sll_ifindex: Int32 = 0
    var sll_hatype: UInt16 = 0
    var sll_pkttype: UInt8 = 0
    var sll_halen: UInt8 = 0
    var sll_addr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
}

/// A `Result` handed from a namespace thread to the waiting caller (written before a semaphore signal).
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// A systemd notify socket for one agent (`NOTIFY_SOCKET` = `path`; a filesystem path, because an
/// abstract socket would belong to the lab's network namespace, not the agent's): a thread receives
/// every message and records when each `WATCHDOG=1` arrived.
public final class LabNotifyListener: @unchecked Sendable {
    /// The socket path.
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var beats: [Date] = []
    private var ready: Date?
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    public init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        var (address, length) = try LabSockets.unixAddress(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else {
            close(fd)
            throw LabError("bind \(path): \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while isRunning {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { continue }
                let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n")
                let now = Date()
                lock.lock()
                if lines.contains("WATCHDOG=1") { beats.append(now) }
                if lines.contains("READY=1"), ready == nil { ready = now }
                lock.unlock()
            }
            done.signal()
        }
        thread.name = "lab-notify"
        thread.start()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    /// When `READY=1` first arrived.
    public var readyAt: Date? {
        lock.lock()
        defer { lock.unlock() }
        return ready
    }

    /// Arrival times of `WATCHDOG=1` in [from, to].
    public func beats(from: Date, to: Date) -> [Date] {
        lock.lock()
        defer { lock.unlock() }
        return beats.filter { $0 >= from && $0 <= to }
    }

    /// The largest gap between consecutive beats over [from, to], counting from the last beat before
    /// `from` and up to `to` (a watchdog that stops firing mid-window shows as a gap up to `to`).
    public func maxGap(from: Date, to: Date) -> Double {
        lock.lock()
        let before = beats.last { $0 < from } ?? from
        lock.unlock()
        let times = [before] + beats(from: from, to: to) + [to]
        return zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }.max() ?? 0
    }

    /// Stops the thread, closes and removes the socket.
    public func stop() {
        lock.lock()
        let was = running
        running = false
        lock.unlock()
        guard was else { return }
        done.wait()
        close(fd)
        unlink(path)
    }
}
