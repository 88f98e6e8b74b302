import Foundation
import Glibc
import NIOCore
import NetHealCore
import Testing

@testable import NetHealAgent

/// A UDP socket bound to a loopback source address of its own (127.0.0.0/8 is all loopback on Linux),
/// connected to one agent: an attacker whose source address is not a member's. Closed on deinit.
final class HostileSocket: @unchecked Sendable {
    let fd: Int32

    init(source: String, target: SocketAddress) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed: errno \(errno)") }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        guard Self.call(fd, &local, bind) == 0 else {
            close(fd)
            throw FixtureError("bind \(source) failed: errno \(errno)")
        }
        guard case .v4(let v4) = target else {
            close(fd)
            throw FixtureError("IPv4 only")
        }
        var remote = v4.address
        guard Self.call(fd, &remote, connect) == 0 else {
            close(fd)
            throw FixtureError("connect failed: errno \(errno)")
        }
    }

    private static func call(
        _ fd: Int32, _ address: inout sockaddr_in, _ function: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                function(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Sends one datagram; false when the kernel refused it (ENOBUFS, EAGAIN, ECONNREFUSED).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } == bytes.count
    }

    deinit { close(fd) }
}

/// What one flood thread achieved.
struct FloodResult: Sendable {
    var sent = 0
    var refused = 0
    var seconds = 0.0
    var rate: Double { seconds > 0 ? Double(sent) / seconds : 0 }
}

/// Sends datagrams from `pool` (round robin) as fast as possible, paced to at most `rate` per second,
/// for `seconds`, on a thread of its own.
func flood(
    _ socket: HostileSocket, pool: [[UInt8]], rate: Double, seconds: Double
) async -> FloodResult {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var result = FloodResult()
            let start = ContinuousClock.now
            let end = start + .milliseconds(Int64(seconds * 1000))
            var index = 0
            while true {
                let now = ContinuousClock.now
                if now >= end { break }
                let elapsed = Double((now - start).components.attoseconds) / 1e18 + Double((now - start).components.seconds)
                let allowed = Int(elapsed * rate) + 64
                if result.sent + result.refused >= allowed {
                    usleep(200)
                    continue
                }
                for _ in 0..<32 {
                    if socket.send(pool[index]) { result.sent += 1 } else { result.refused += 1 }
                    index = (index + 1) % pool.count
                }
            }
            result.seconds = (ContinuousClock.now - start).seconds
            continuation.resume(returning: result)
        }
    }
}

extension Duration {
    /// This duration in seconds as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}

/// This process's resident set size in KiB (`VmRSS` of /proc/self/status).
func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }
    return -1
}

/// The `q` quantile (0...1) of `values` (nearest rank); 0 when empty.
func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[rank]
}

extension IntegrationFleet {
    /// The first datagram whose sender is member `origin` captured on the gossip port of `tap` (a member no
    /// agent runs as, so the running agents gossip to the test).
    func capture(from origin: Int, tap: Int) async throws -> [UInt8] {
        for _ in 0..<200 {
            let captured = try await IntegrationFleet.captureUDP(port: gossipPorts[tap])
            var marks = fleet.emptyWatermarks
            if (try? fleet.decoder.decode(captured, watermarks: &marks).get())?.sender.origin.int == origin {
                return captured
            }
        }
        throw FixtureError("no datagram of n\(origin) captured")
    }

    /// The incarnation part of member `member`'s view version in `status`, if any.
    static func incarnation(of member: Int, in status: AgentStatus) -> UInt64? {
        status.members[member].viewVersion.flatMap { $0.split(separator: ".").first }.flatMap { UInt64($0) }
    }
}

extension IntegrationFleet {
    /// `waitUntil` whose failure message also lists every node's rejection counters.
    @discardableResult
    func waitCounted(
        _ nodes: [Int], timeout: Duration = .seconds(60), _ what: String, _ condition: @escaping (AgentStatus) -> Bool
    ) async throws -> [AgentStatus] {
        var seen: [String] = []
        do {
            return try await waitUntil(nodes, timeout: timeout, what) { s in
                seen.append("\(s.node): rejected \(s.counters.rejected), drops \(s.counters.transportDrops)")
                return condition(s)
            }
        } catch {
            throw FixtureError("\(error); counters: \(seen.suffix(nodes.count))")
        }
    }
}

/// A TCP listener on 127.0.0.1 that accepts and closes every connection on a thread of its own, so
/// probes keep succeeding however long a test runs (a listener that never accepts fills its backlog
/// after a few hundred probes, and the probes then time out).
final class ProbeAcceptor: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        (fd, port) = try IntegrationFleet.listen()
        let fd = self.fd
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                if client >= 0 {
                    close(client)
                } else if errno != EINTR {
                    return  // closed by `stop()`
                }
            }
        }
    }

    /// Points every node file of `fleet` at this acceptor (before the agents start).
    func adopt(_ fleet: IntegrationFleet) throws {
        for i in 0..<fleet.size {
            let text = try String(contentsOfFile: fleet.nodeFile(i), encoding: .utf8)
            try text.replacingOccurrences(of: "tcp 127.0.0.1:\(fleet.probePort)", with: "tcp 127.0.0.1:\(port)")
                .write(toFile: fleet.nodeFile(i), atomically: true, encoding: .utf8)
        }
    }

    /// Stops accepting (shutdown wakes the blocked `accept`).
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

extension IntegrationFleet {
    /// Like `with`, with probes answered by a `ProbeAcceptor` for as long as the body runs.
    static func withAcceptor<T>(size: Int, _ body: (IntegrationFleet) async throws -> T) async throws -> T {
        let acceptor = try ProbeAcceptor()
        defer { acceptor.stop() }
        return try await with(size: size) { fleet in
            try acceptor.adopt(fleet)
            return try await body(fleet)
        }
    }
}
