#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address literal (never a DNS name: gossip and probes must work when DNS does not).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]

    /// True for IPv4.
    public var isIPv4: Bool { bytes.count == 4 }

    /// Parses a dotted-quad IPv4 or an IPv6 literal (no brackets, no zone); nil otherwise.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            // inet_pton(AF_INET) accepts exactly four decimal octets, as we want.
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    /// The canonical text (RFC 5952 for IPv6).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = copy.withUnsafeMutableBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        precondition(ok, "inet_ntop failed on a parsed address")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        isIPv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// 0.0.0.0 or ::.
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }

    /// 224.0.0.0/4, 255.255.255.255, or ff00::/8.
    public var isMulticastOrBroadcast: Bool {
        isIPv4 ? (bytes[0] >= 224) : bytes[0] == 0xff
    }
}

/// An IP address and a port, written `198.18.0.1:7946` or `[2001:db8::1]:7946`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    /// The address.
    public var address: IPAddress
    /// The port, 1 to 65535.
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// The host as a socket API takes it: the canonical address text without brackets.
    public var host: String { address.description }

    /// `a.b.c.d:port` or `[v6]:port`.
    public var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }

    /// Parses `host:port`; on failure returns why and what to write instead.
    public static func parse(_ text: String) -> Result<HostPort, HostPortError> {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(.malformed("missing `]` after the IPv6 address")) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return .failure(.malformed("expected `:port` after `]`")) }
            portText = after.dropFirst()
            if hostText.contains("%") { return .failure(.malformed("IPv6 zone indexes (`%eth0`) are not supported; use a global or ULA address")) }
            guard let address = IPAddress(String(hostText)), !address.isIPv4 else {
                return .failure(.malformed("`\(hostText)` is not an IPv6 address"))
            }
            return port(portText).map { HostPort(address: address, port: $0) }
        }
        let colons = text.filter { $0 == ":" }.count
        if colons > 1 { return .failure(.malformed("write IPv6 addresses in brackets, e.g. `[2001:db8::1]:7946`")) }
        guard let colon = text.lastIndex(of: ":") else { return .failure(.malformed("missing `:port`, e.g. `198.18.0.1:7946`")) }
        hostText = text[..<colon]
        portText = text[text.index(after: colon)...]
        guard let address = IPAddress(String(hostText)) else {
            let looksLikeName = hostText.contains { $0.isLetter }
            return .failure(.malformed(
                looksLikeName
                    ? "`\(hostText)` is not an IP address; host names are not resolved (gossip must not depend on DNS) — write the IP address"
                    : "`\(hostText)` is not an IPv4 address (four decimal octets, e.g. 198.18.0.1)"))
        }
        return port(portText).map { HostPort(address: address, port: $0) }
    }

    private static func port(_ text: Substring) -> Result<UInt16, HostPortError> {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else {
            return .failure(.malformed("`\(text)` is not a port number (1 to 65535)"))
        }
        guard (1...65535).contains(value) else { return .failure(.malformed("port \(value) is out of range (1 to 65535)")) }
        return .success(UInt16(value))
    }
}

/// Why a `host:port` text was refused.
public enum HostPortError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Malformed, with the reason and the fix.
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): reason
        }
    }
}
