import NIOCore

/// One upstream target to probe through the managed interface.
public struct ProbeTarget: Hashable, Sendable, CustomStringConvertible {
    /// How the target is probed.
    public enum Method: Hashable, Sendable {
        /// ICMP echo (ICMPv6 echo for IPv6 addresses) through a raw socket; needs CAP_NET_RAW.
        case icmpEcho
        /// A TCP connect to `port`; a completed handshake or a refusal (RST) both prove the path works.
        case tcpConnect(port: Int)
    }

    /// The target address (IPv4 or IPv6; the port inside it is ignored, `method` carries the TCP port).
    public var address: SocketAddress
    public var method: Method
    /// A human name for logs and status (`"gateway"`, `"anchor 1.1.1.1"`).
    public var name: String

    public init(address: SocketAddress, method: Method, name: String? = nil) {
        self.address = address
        self.method = method
        self.name = name ?? address.ipAddress ?? "\(address)"
    }

    public var description: String {
        switch method {
        case .icmpEcho: return "\(name) (icmp \(address.ipAddress ?? "?"))"
        case .tcpConnect(let port): return "\(name) (tcp \(address.ipAddress ?? "?"):\(port))"
        }
    }
}

/// What one probe saw. Only `.answered` is a success: timeouts and send errors are failures.
public enum ProbeOutcome: Hashable, Sendable, CustomStringConvertible {
    /// The target answered (echo reply, TCP handshake or TCP refusal) after `rtt`.
    case answered(rtt: Duration)
    /// Nothing came back before the deadline.
    case timedOut
    /// The kernel refused the probe (`ENETUNREACH`, `EHOSTUNREACH`, `ENODEV`, `ENETDOWN`, …), when
    /// sending or, for TCP and ICMP unreachable messages, asynchronously. A failure, never "no answer yet".
    case sendError(SystemErrno)

    /// True only for `.answered`.
    public var isSuccess: Bool {
        if case .answered = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .answered(let rtt): return "ok \(rtt)"
        case .timedOut: return "timeout"
        case .sendError(let errno): return "send error \(errno.name)"
        }
    }
}

/// The outcome for one target of a `ProbeRound`.
public struct ProbeResult: Hashable, Sendable, CustomStringConvertible {
    public var target: ProbeTarget
    public var outcome: ProbeOutcome

    public init(target: ProbeTarget, outcome: ProbeOutcome) {
        self.target = target
        self.outcome = outcome
    }

    public var description: String { "\(target): \(outcome)" }
}
