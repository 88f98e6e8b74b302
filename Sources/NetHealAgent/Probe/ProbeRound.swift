import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Settings for probing upstream targets through the managed interface.
public struct ProbeSettings: Hashable, Sendable {
    /// The managed interface every probe socket is bound to (`SO_BINDTODEVICE`, needs CAP_NET_RAW).
    /// nil leaves probes unbound (diagnostics and tests only: probes then follow the routing table).
    public var interface: String?
    /// How long a round waits for answers. Default: 2 s.
    public var timeout: Duration
    /// The ICMP echo identifier. Default: the low 16 bits of the process id.
    public var icmpIdentifier: UInt16

    public init(interface: String?, timeout: Duration = .seconds(2), icmpIdentifier: UInt16? = nil) {
        self.interface = interface
        self.timeout = timeout
        self.icmpIdentifier = icmpIdentifier ?? UInt16(truncatingIfNeeded: Posix.processID())
    }
}

/// One round of probes: every target probed at once, all sockets served by one `poll(2)` loop.
///
/// `run()` blocks its thread for at most `settings.timeout`; call it from a thread pool
/// (`run(on:)`) or from a thread you own. Sockets are created on the calling thread, so they
/// live in that thread's network namespace.
public struct ProbeRound: Sendable {
    public var targets: [ProbeTarget]
    public var settings: ProbeSettings
    /// The ICMP sequence number of the first ICMP target; the next ones count up from it.
    public var firstSequence: UInt16

    public init(targets: [ProbeTarget], settings: ProbeSettings, firstSequence: UInt16 = 0) {
        self.targets = targets
        self.settings = settings
        self.firstSequence = firstSequence
    }

    /// Runs the round on `pool` and returns one result per target, in target order.
    public func run(on pool: NIOThreadPool) async throws -> [ProbeResult] {
        try await pool.runIfActive { self.run() }
    }

    /// Runs the round on the calling thread (blocking) and returns one result per target, in target order.
    public func run() -> [ProbeResult] {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: settings.timeout)
        var probes = targets.enumerated().map { index, target in
            PendingProbe(target: target, sequence: firstSequence &+ UInt16(truncatingIfNeeded: index))
        }
        defer { for probe in probes where probe.fd >= 0 { Posix.close(probe.fd) } }

        for index in probes.indices {
            probes[index].start(settings: settings, now: clock.now)
        }
        while probes.contains(where: { $0.outcome == nil }) {
            let now = clock.now
            guard now < deadline else { break }
            let waiting = probes.indices.filter { probes[$0].outcome == nil }
            var fds = waiting.map { index in
                pollfd(fd: probes[index].fd, events: Int16(probes[index].isTCP ? POLLOUT : POLLIN), revents: 0)
            }
            let remaining = now.duration(to: deadline)
            let milliseconds = Int32(clamping: (remaining.nanosecondsClamped + 999_999) / 1_000_000)
            do {
                guard try Posix.poll(&fds, timeoutMilliseconds: milliseconds) > 0 else { continue }
            } catch {
                // poll itself failed (EINVAL/ENOMEM): every waiting probe fails with that errno.
                let errno = (error as? SyscallError)?.errno ?? SystemErrno(EIO)
                for index in waiting { probes[index].outcome = .sendError(errno) }
                break
            }
            for (slot, index) in waiting.enumerated() where fds[slot].revents != 0 {
                probes[index].handleReady(
                    revents: fds[slot].revents, identifier: settings.icmpIdentifier, now: clock.now)
            }
        }
        return probes.map { ProbeResult(target: $0.target, outcome: $0.outcome ?? .timedOut) }
    }
}

/// The state of one probe inside a round.
private struct PendingProbe {
    let target: ProbeTarget
    let sequence: UInt16
    var fd: Int32 = -1
    var outcome: ProbeOutcome?
    var sentAt: ContinuousClock.Instant?

    init(target: ProbeTarget, sequence: UInt16) {
        self.target = target
        self.sequence = sequence
    }

    var isTCP: Bool {
        if case .tcpConnect = target.method { return true }
        return false
    }

    var isIPv6: Bool { target.address.protocol == .inet6 }

    /// Opens the socket, binds it to the interface and sends the echo / starts the connect.
    /// Every failure becomes `.sendError(errno)`.
    mutating func start(settings: ProbeSettings, now: ContinuousClock.Instant) {
        do {
            let domain = isIPv6 ? AF_INET6 : AF_INET
            switch target.method {
            case .icmpEcho:
                fd = try Posix.socket(
                    domain: domain, type: Int32(SOCK_RAW.rawValue),
                    protocol: Int32(isIPv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
                if !isIPv6 {
                    // Let only echo replies (0) and destination unreachable (3) wake us up.
                    let blocked: UInt32 = ~((1 << 0) | (1 << 3))
                    try Posix.setOption(fd, level: Self.solRaw, name: Self.icmpFilter, value: blocked)
                }
            case .tcpConnect:
                fd = try Posix.socket(domain: domain, type: Int32(SOCK_STREAM.rawValue), protocol: Int32(IPPROTO_TCP))
            }
            if let interface = settings.interface {
                try Posix.bindToDevice(fd, interface: interface)
            }
            sentAt = now
            switch target.method {
            case .icmpEcho:
                let packet = ICMPEcho.request(identifier: settings.icmpIdentifier, sequence: sequence, ipv6: isIPv6)
                _ = try Posix.sendTo(fd, packet, address: target.address)
            case .tcpConnect(let port):
                var address = target.address
                address.port = port
                if try Posix.connect(fd, to: address) {
                    outcome = .answered(rtt: now.duration(to: ContinuousClock.now))
                }
            }
        } catch let error as SyscallError {
            outcome = .sendError(error.errno)
        } catch {
            outcome = .sendError(SystemErrno(EINVAL))
        }
    }

    /// Handles readiness reported by `poll(2)`.
    mutating func handleReady(revents: Int16, identifier: UInt16, now: ContinuousClock.Instant) {
        let rtt = sentAt.map { $0.duration(to: now) } ?? .zero
        if isTCP {
            switch Result(catching: { try Posix.pendingError(fd) }) {
            case .success(0), .success(ECONNREFUSED):
                outcome = .answered(rtt: rtt)  // handshake done, or the target refused: the path works
            case .success(let code):
                outcome = .sendError(SystemErrno(code))
            case .failure(let error):
                outcome = .sendError((error as? SyscallError)?.errno ?? SystemErrno(EIO))
            }
            return
        }
        if revents & Int16(POLLERR) != 0, let code = try? Posix.pendingError(fd), code != 0 {
            outcome = .sendError(SystemErrno(code))
            return
        }
        let expected = IPBytes.of(target.address)
        while outcome == nil {
            guard let received = try? Posix.receiveFrom(fd, capacity: 1500) else { return }
            switch ICMPEcho.parse(received.bytes, ipv6: isIPv6) {
            case .echoReply(identifier, sequence):
                if received.source.map(IPBytes.of) == expected { outcome = .answered(rtt: rtt) }
            case .unreachable(identifier, sequence, let destination, let errno):
                if destination == expected { outcome = .sendError(errno) }
            default:
                continue
            }
        }
    }

    private static let solRaw: Int32 = 255  // SOL_RAW
    private static let icmpFilter: Int32 = 1  // ICMP_FILTER
}

/// Raw IP address bytes of a socket address (4 or 16 bytes; empty for non-IP addresses).
enum IPBytes {
    static func of(_ address: SocketAddress) -> [UInt8] {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default:
            return []
        }
    }
}
