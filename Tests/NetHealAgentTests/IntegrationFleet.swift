import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import NetHealConfig
import NetHealCore
import NetHealTestKit
import Synchronization
import Testing

@testable import NetHealAgent

/// A real fleet of in-process agents on 127.0.0.1: real UDP gossip, real Ed25519 keys (TestFleet seeds in
/// 0600 key files), real cluster and node files, real control sockets, probes by TCP to a listener the
/// fixture owns, bound to `lo`. Heals run a `command` action that only records. `shutdown()` removes
/// every socket and file.
final class IntegrationFleet: @unchecked Sendable {
    let directory: String
    let fleet: TestFleet
    let gossipPorts: [UInt16]
    let probePort: UInt16
    private let probeListener: Int32
    private var agents: [Task<Void, any Error>?]
    private let lock = NSLock()

    /// Protocol settings scaled down so a test sees views, silence and freshness within seconds.
    static let fastProtocol = """
        protocol:
          gossip_interval: 200ms
          peer_silence_timeout: 1s
          view_freshness: 2s
          probe_interval: 250ms
          probe_timeout: 200ms
          failure_rounds: 3
          recovery_rounds: 2
          isolation_window: 2s
          min_heal_interval: 5s
          settle_time: 2s
        """

    /// The managed interface and mode written into every node file.
    let interface: String
    let mode: String
    /// Each node's Prometheus port on 127.0.0.1, when the fleet was made `withMetrics`.
    let metricsPorts: [UInt16]

    /// The `control_group` written into every node file, if any.
    let controlGroup: String?
    /// The `maintenance_windows` written into every node file (none when empty).
    let maintenanceWindows: [String]

    /// Lines appended to `fastProtocol` in the cluster file (e.g. "  neighborhood_size: 4").
    let extraProtocol: String

    init(
        size: Int, interface: String = "lo", mode: String = "heal", withMetrics: Bool = false,
        controlGroup: String? = nil, maintenanceWindows: [String] = [], extraProtocol: String = ""
    ) throws {
        self.extraProtocol = extraProtocol
        self.maintenanceWindows = maintenanceWindows
        self.interface = interface
        self.mode = mode
        self.controlGroup = controlGroup
        metricsPorts = withMetrics ? try (0..<size).map { _ in try Self.freePort(udp: false) } : []
        var template = Array("/tmp/nh-it-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        directory = String(cString: made)
        fleet = try TestFleet(size: size, clusterID: "it-cluster")
        gossipPorts = try (0..<size).map { _ in try Self.freePort(udp: true) }
        (probeListener, probePort) = try Self.listen()
        agents = Array(repeating: nil, count: size)
        try writeFiles()
    }

    var size: Int { fleet.size }

    /// Runs `body` with a new fleet of `size` and always shuts it down (sockets and files removed).
    static func with<T>(size: Int, _ body: (IntegrationFleet) async throws -> T) async throws -> T {
        let fleet = try IntegrationFleet(size: size)
        do {
            let result = try await body(fleet)
            await fleet.shutdown()
            return result
        } catch {
            await fleet.shutdown()
            throw error
        }
    }

    func nodeFile(_ i: Int) -> String { "\(directory)/n\(i).yaml" }
    func socketPath(_ i: Int) -> String { "\(directory)/n\(i).sock" }
    var clusterFile: String { "\(directory)/cluster.yaml" }
    func gossipAddress(_ i: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: "127.0.0.1", port: Int(gossipPorts[i]))
    }

    /// The cluster file text for the first `members` members (default all), with `protocol` settings.
    /// `nextKeys[i]` becomes member i's `next_public_key` (a key rotation in progress).
    func clusterText(
        members: Int? = nil, protocol section: String = IntegrationFleet.fastProtocol, nextKeys: [Int: [UInt8]] = [:]
    ) -> String {
        var text = "cluster_id: it-cluster\nmembers:\n"
        for i in 0..<(members ?? size) {
            text += "  - name: n\(i)\n    addresses: [\"127.0.0.1:\(gossipPorts[i])\"]\n"
            text += "    public_key: \(PublicKeyText.format(fleet.signers[i].publicKey))\n"
            if let next = nextKeys[i] { text += "    next_public_key: \(PublicKeyText.format(next))\n" }
        }
        return text + section + "\n"
    }

    private func writeFiles() throws {
        try clusterText(protocol: Self.fastProtocol + (extraProtocol.isEmpty ? "" : "\n" + extraProtocol))
            .write(toFile: clusterFile, atomically: true, encoding: .utf8)
        for i in 0..<size {
            let key = "\(directory)/n\(i).key"
            try SecretKeyFile.write(seed: fleet.seeds[i], to: key)
            let node = """
                cluster_file: cluster.yaml
                member: n\(i)
                secret_key_file: \(key)
                interface: \(interface)
                probe_targets:
                  - tcp 127.0.0.1:\(probePort)
                heal_action:
                  kind: command
                  argv: [/usr/bin/touch, \(directory)/healed-n\(i)]
                  timeout: 5s
                  verify_timeout: 1s
                  fallback_restore: false
                state_dir: \(directory)/state-n\(i)
                control_socket: \(socketPath(i))
                mode: \(mode)
                log_level: warning
                \(controlGroup.map { "control_group: \($0)" } ?? "")
                \(metricsPorts.isEmpty ? "" : "metrics_listen: 127.0.0.1:\(metricsPorts[i])")
                \(maintenanceWindows.isEmpty ? "" : "maintenance_windows: [" + maintenanceWindows.map { "\"\($0)\"" }.joined(separator: ", ") + "]")

                """
            try node.write(toFile: nodeFile(i), atomically: true, encoding: .utf8)
        }
    }

    // MARK: Agents

    /// Starts agent `i` in this process (no SIGHUP handler; systemd only when `notifier` names a socket).
    func start(
        _ i: Int, notifier: SystemdNotifier = SystemdNotifier(environment: [:]), reloads: AsyncStream<Void>? = nil,
        clock: AgentClock = .system
    ) {
        var logger = Logger(label: "it.n\(i)")
        logger.logLevel = .warning
        let options = AgentOptions(
            nodeFile: nodeFile(i), notifier: notifier, reloadOnSIGHUP: false, reloadRequests: reloads, clock: clock,
            logger: logger)
        let task = Task { try await NetHealAgentService(options: options).run() }
        lock.withLock { agents[i] = task }
    }

    func startAll() { for i in 0..<size { start(i) } }

    /// Stops agent `i` (as a graceful shutdown would) and waits until it has closed its sockets.
    func stop(_ i: Int) async {
        let task = lock.withLock { () -> Task<Void, any Error>? in
            defer { agents[i] = nil }
            return agents[i]
        }
        task?.cancel()
        _ = await task?.result
    }

    /// Stops every agent, closes the probe listener and removes the directory.
    func shutdown() async {
        for i in 0..<size { await stop(i) }
        close(probeListener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Control socket

    /// Agent `i`'s status through its control socket (the blocking client runs on its own thread).
    func status(_ i: Int) async throws -> AgentStatus {
        let client = ControlClient(path: socketPath(i), timeout: .seconds(30))
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try client.status() })
            }
        }
    }

    /// Sends a control command to agent `i` (on a thread of its own).
    func control(_ i: Int, _ command: ControlRequest.Command) async throws -> ControlResponse {
        let client = ControlClient(path: socketPath(i), timeout: .seconds(30))
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try client.send(ControlRequest(command: command)) })
            }
        }
    }

    /// Polls `condition` over the statuses of `nodes` until it holds for all, or fails after `timeout`.
    /// Returns the last statuses. The default timeout is generous on purpose: when the whole test run
    /// shares two cores with CPU-bound suites, agents (and this loop) can be starved for tens of seconds;
    /// a passing condition returns at once.
    @discardableResult
    func waitUntil(
        _ nodes: [Int], timeout: Duration = .seconds(120), _ what: String,
        _ condition: (AgentStatus) -> Bool
    ) async throws -> [AgentStatus] {
        let deadline = ContinuousClock.now + timeout
        var last: [AgentStatus] = []
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do {
                last = try await nodes.asyncMap { try await self.status($0) }
                lastError = nil
                if last.allSatisfy(condition) { return last }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let detail = last.map { "\($0.node): \($0.decision.state) \($0.decision.rule.id) — \($0.diagnosis)" }
        throw FixtureError("timed out waiting until \(what); last: \(detail) \(lastError.map { "error: \($0)" } ?? "")")
    }

    /// Binds a UDP socket on 127.0.0.1:`port` (a member's address no agent runs on) and returns the
    /// first datagram it receives within `timeout` seconds.
    static func captureUDP(port: UInt16, timeout: Int = 5) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                        guard fd >= 0 else { throw FixtureError("socket failed") }
                        defer { close(fd) }
                        var sin = sockaddr_in()
                        sin.sin_family = sa_family_t(AF_INET)
                        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
                        sin.sin_port = port.bigEndian
                        // Another suite's fixture may be probing the same number for a moment (each picks
                        // free ports by binding them): retry briefly before giving up.
                        var bound: Int32 = -1
                        for _ in 0..<100 {
                            bound = withUnsafePointer(to: &sin) {
                                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                                }
                            }
                            if bound == 0 || errno != EADDRINUSE { break }
                            usleep(20_000)
                        }
                        guard bound == 0 else { throw FixtureError("bind \(port) failed: errno \(errno)") }
                        var tv = timeval(tv_sec: timeout, tv_usec: 0)
                        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                        var buffer = [UInt8](repeating: 0, count: 2048)
                        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        guard count > 0 else { throw FixtureError("nothing captured on port \(port)") }
                        return Array(buffer.prefix(count))
                    })
            }
        }
    }

    /// `GET path` over HTTP/1.0 to 127.0.0.1:`port`; the whole response.
    static func httpGet(port: UInt16, path: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                        guard fd >= 0 else { throw FixtureError("socket failed") }
                        defer { close(fd) }
                        var sin = sockaddr_in()
                        sin.sin_family = sa_family_t(AF_INET)
                        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
                        sin.sin_port = port.bigEndian
                        let connected = withUnsafePointer(to: &sin) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                        guard connected == 0 else { throw FixtureError("connect \(port) failed: errno \(errno)") }
                        let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
                        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                        var tv = timeval(tv_sec: 5, tv_usec: 0)
                        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                        var response: [UInt8] = []
                        var chunk = [UInt8](repeating: 0, count: 65536)
                        while true {
                            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                            if count <= 0 { break }
                            response += chunk.prefix(count)
                        }
                        return String(decoding: response, as: UTF8.self)
                    })
            }
        }
    }

    /// Sends raw bytes over UDP from a fresh test socket to `address`.
    func sendUDP(_ bytes: [UInt8], to address: SocketAddress) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        defer { close(fd) }
        guard case .v4(let v4) = address else { throw FixtureError("IPv4 only") }
        var sin = v4.address
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw FixtureError("sendto failed: errno \(errno)") }
    }

    // MARK: Sockets

    /// A port that is free now on 127.0.0.1 and was never handed out before in this process, chosen
    /// below Linux's ephemeral range (32768–60999). A member's port stays unbound between this check
    /// and the moment its agent (or a test's tap) binds it — for a tap member, between every capture —
    /// so two guards keep other sockets off it: the kernel's automatic binding of other sockets (every
    /// test's clients and agents run in this process) never lands in 20000–32767, and no other fleet of
    /// a test running in parallel is handed the same port (`handedOut`).
    static func freePort(udp: Bool) throws -> UInt16 {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let candidate = UInt16.random(in: 20_000...32_767, using: &rng)
            guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            let fd = socket(AF_INET, Int32((udp ? SOCK_DGRAM : SOCK_STREAM).rawValue), 0)
            guard fd >= 0 else { throw FixtureError("socket failed") }
            defer { close(fd) }
            if let port = try? bindLoopback(fd, port: candidate) { return port }
        }
        throw FixtureError("no free port in 20000-32767 on 127.0.0.1")
    }

    /// Every port `freePort` has handed out in this process (membership only: nothing iterates it).
    private static let handedOut = Mutex<Set<UInt16>>([])

    /// A TCP listener on 127.0.0.1 (the kernel completes handshakes from its backlog; nothing accepts).
    static func listen() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        let port = try bindLoopback(fd)
        guard Glibc.listen(fd, 512) == 0 else { throw FixtureError("listen failed") }
        return (fd, port)
    }

    private static func bindLoopback(_ fd: Int32, port: UInt16 = 0) throws -> UInt16 {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        sin.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw FixtureError("bind failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: sin.sin_port)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
