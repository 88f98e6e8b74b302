import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A default route through the managed interface, read from the kernel's routing table.
public struct DefaultRoute: Hashable, Sendable, CustomStringConvertible {
    /// The gateway (next hop). IPv6 link-local gateways carry the interface's scope id.
    public var gateway: SocketAddress
    /// The interface the route goes through.
    public var interface: String
    /// The route metric (lower wins).
    public var metric: UInt32

    public var description: String { "default via \(gateway.ipAddress ?? "?") dev \(interface) metric \(metric)" }
}

/// Finds the default gateway of an interface from `/proc/net/route` and `/proc/net/ipv6_route`.
///
/// The parsers are pure (text in, routes out); `discover` reads the files. Only usable default
/// routes count: destination and prefix 0, flags UP and GATEWAY, not REJECT. Among several, the
/// lowest metric wins, then the earliest line.
public enum GatewayDiscovery {
    /// `/proc/net/route`: the IPv4 routing table of the calling thread's network namespace is
    /// `/proc/thread-self/net/route`; `/proc/net/route` is the process's.
    public static let ipv4RoutePath = "/proc/net/route"
    public static let ipv6RoutePath = "/proc/net/ipv6_route"

    private static let flagUp: UInt32 = 0x0001
    private static let flagGateway: UInt32 = 0x0002
    private static let flagReject: UInt32 = 0x0200

    /// The IPv4 default route via `interface` in `/proc/net/route` text, or nil.
    ///
    /// Columns: `Iface Destination Gateway Flags RefCnt Use Metric Mask …`, addresses as the
    /// kernel's in-memory 32-bit value printed in hex (so byte order is the host's).
    public static func ipv4DefaultRoute(procNetRoute text: String, interface: String) -> DefaultRoute? {
        ipv4DefaultRoute(procNetRoute: Array(text.utf8), interface: interface)
    }

    /// The same on the file's bytes: read every second by the probe round, so it scans bytes in place
    /// (no strings or arrays per line).
    public static func ipv4DefaultRoute(procNetRoute bytes: [UInt8], interface: String) -> DefaultRoute? {
        let name = Array(interface.utf8)
        var best: DefaultRoute?
        bytes.withUnsafeBufferPointer { text in
            var lineStart = 0
            var firstLine = true
            while lineStart < text.count {
                var lineEnd = lineStart
                while lineEnd < text.count, text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                if firstLine {
                    firstLine = false
                    continue
                }
                var fields = RouteFields(text: text, start: lineStart, end: lineEnd)
                guard let iface = fields.next(), iface.count == name.count, iface.elementsEqual(name),
                    let destination = fields.next().flatMap({ hexValue($0) }), destination == 0,
                    let gatewayValue = fields.next().flatMap({ hexValue($0) }), gatewayValue != 0,
                    let flags = fields.next().flatMap({ hexValue($0) }),
                    flags & (flagUp | flagGateway) == flagUp | flagGateway, flags & flagReject == 0,
                    fields.next() != nil, fields.next() != nil,  // RefCnt, Use
                    let metric = fields.next().flatMap({ decimalValue($0) }),
                    let mask = fields.next().flatMap({ hexValue($0) }), mask == 0
                else { continue }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = gatewayValue  // already the in-memory (network order) value
                if best == nil || metric < best!.metric {
                    best = DefaultRoute(gateway: SocketAddress(address), interface: interface, metric: metric)
                }
            }
        }
        return best
    }

    /// The whitespace-separated fields of one line, in place.
    private struct RouteFields {
        let text: UnsafeBufferPointer<UInt8>
        var position: Int
        let end: Int

        init(text: UnsafeBufferPointer<UInt8>, start: Int, end: Int) {
            self.text = text
            self.position = start
            self.end = end
        }

        mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
            while position < end, text[position] == UInt8(ascii: " ") || text[position] == UInt8(ascii: "\t") {
                position += 1
            }
            guard position < end else { return nil }
            let start = position
            while position < end, text[position] != UInt8(ascii: " "), text[position] != UInt8(ascii: "\t") {
                position += 1
            }
            return text[start..<position]
        }
    }

    /// A 32-bit hexadecimal field (1–8 digits), or nil.
    private static func hexValue(_ field: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        guard !field.isEmpty, field.count <= 8 else { return nil }
        var value: UInt32 = 0
        for byte in field {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A 32-bit decimal field, or nil (also on overflow).
    private static func decimalValue(_ field: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        guard !field.isEmpty, field.count <= 10 else { return nil }
        var value: UInt64 = 0
        for byte in field {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }

    /// The IPv6 default route via `interface` in `/proc/net/ipv6_route` text, or nil.
    ///
    /// Columns: `dest destLen src srcLen gateway metric refcnt use flags iface`, addresses as 32 hex
    /// digits in network order. `scopeID` gives link-local gateways their zone (the interface index).
    public static func ipv6DefaultRoute(
        procNetIPv6Route text: String, interface: String, scopeID: UInt32 = 0
    )
        -> DefaultRoute?
    {
        var best: DefaultRoute?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 10, fields[9] == interface,
                let destination = hexBytes(fields[0]), destination.allSatisfy({ $0 == 0 }),
                fields[1] == "00",
                let gateway = hexBytes(fields[4]), !gateway.allSatisfy({ $0 == 0 }),
                let metric = UInt32(fields[5], radix: 16),
                let flags = UInt32(fields[8], radix: 16), flags & (flagUp | flagGateway) == flagUp | flagGateway,
                flags & flagReject == 0
            else { continue }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: gateway) }
            if gateway[0] == 0xFE && gateway[1] & 0xC0 == 0x80 { address.sin6_scope_id = scopeID }
            let route = DefaultRoute(gateway: SocketAddress(address), interface: interface, metric: metric)
            if best == nil || metric < best!.metric { best = route }
        }
        return best
    }

    /// The route `discover(...).first` gives, reading the IPv6 table only when there is no IPv4
    /// default route via `interface` (the probe round asks for this every second).
    public static func preferred(
        interface: String, ipv4Path: String = ipv4RoutePath, ipv6Path: String = ipv6RoutePath
    ) throws -> DefaultRoute? {
        try ipv4Route(interface: interface, path: ipv4Path) ?? ipv6Route(interface: interface, path: ipv6Path)
    }

    /// Reads the routing tables and returns the default routes via `interface` (IPv4 first).
    /// Missing files (no IPv6) give no route; other read errors are thrown.
    public static func discover(
        interface: String, ipv4Path: String = ipv4RoutePath, ipv6Path: String = ipv6RoutePath
    ) throws -> [DefaultRoute] {
        [try ipv4Route(interface: interface, path: ipv4Path), try ipv6Route(interface: interface, path: ipv6Path)]
            .compactMap { $0 }
    }

    private static func ipv4Route(interface: String, path: String) throws -> DefaultRoute? {
        guard let bytes = try readBytes(path) else { return nil }
        return ipv4DefaultRoute(procNetRoute: bytes, interface: interface)
    }

    private static func ipv6Route(interface: String, path: String) throws -> DefaultRoute? {
        guard let text = try readFile(path) else { return nil }
        let scope = (try? Posix.interfaceIndex(interface)) ?? 0
        return ipv6DefaultRoute(procNetIPv6Route: text, interface: interface, scopeID: scope)
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// The file's text, or nil when it does not exist.
    private static func readFile(_ path: String) throws -> String? {
        try readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's bytes, or nil when it does not exist.
    private static func readBytes(_ path: String) throws -> [UInt8]? {
        do {
            return try Posix.readSmallFileBytes(path, limit: 1 << 20)
        } catch let error as SyscallError where error.errno.code == ENOENT {
            return nil
        }
    }
}
