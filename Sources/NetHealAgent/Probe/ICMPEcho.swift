#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Building and parsing ICMP / ICMPv6 echo packets (pure; no sockets).
///
/// IPv4 raw sockets deliver the IP header in front of the ICMP message; ICMPv6 raw sockets do not,
/// and the kernel fills in the ICMPv6 checksum. Replies are matched by identifier AND sequence, and
/// the caller also checks the reply's source address.
enum ICMPEcho {
    /// What a received ICMP packet means for an outstanding echo request.
    enum Message: Equatable {
        /// An echo reply carrying `identifier`/`sequence`.
        case echoReply(identifier: UInt16, sequence: UInt16)
        /// A destination-unreachable error quoting our request to `destination` (raw address bytes).
        case unreachable(identifier: UInt16, sequence: UInt16, destination: [UInt8], errno: SystemErrno)
    }

    /// The 8 payload bytes after the header: a fixed marker, so captures are easy to read.
    static let payload: [UInt8] = Array("netheal!".utf8)

    /// An echo request. For IPv4 the checksum is computed here; for IPv6 the kernel computes it.
    static func request(identifier: UInt16, sequence: UInt16, ipv6: Bool) -> [UInt8] {
        var packet: [UInt8] = [ipv6 ? 128 : 8, 0, 0, 0]
        packet += [UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += payload
        if !ipv6 {
            let sum = checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xFF)
        }
        return packet
    }

    /// The Internet checksum (RFC 1071) of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Interprets a packet read from a raw ICMP (IPv4, with IP header) or ICMPv6 (without) socket.
    /// Returns nil for anything that is neither an echo reply nor an unreachable error quoting an echo.
    static func parse(_ packet: [UInt8], ipv6: Bool) -> Message? {
        let icmp: ArraySlice<UInt8>
        if ipv6 {
            icmp = packet[...]
        } else {
            guard let first = packet.first, first >> 4 == 4 else { return nil }
            let headerLength = Int(first & 0x0F) * 4
            guard headerLength >= 20, packet.count >= headerLength + 8 else { return nil }
            icmp = packet[headerLength...]
        }
        guard icmp.count >= 8 else { return nil }
        let base = icmp.startIndex
        let type = icmp[base]
        let code = icmp[base + 1]
        switch (ipv6, type) {
        case (false, 0), (true, 129):
            return .echoReply(identifier: be16(icmp, base + 4), sequence: be16(icmp, base + 6))
        case (false, 3):
            return quotedEcho(
                icmp[(base + 8)...], ipv6: false, errno: code == 0 ? .networkUnreachable : .hostUnreachable)
        case (true, 1):
            return quotedEcho(
                icmp[(base + 8)...], ipv6: true, errno: code == 0 ? .networkUnreachable : .hostUnreachable)
        default:
            return nil
        }
    }

    /// The echo request quoted inside an ICMP error: original IP header, then our ICMP header.
    private static func quotedEcho(_ quoted: ArraySlice<UInt8>, ipv6: Bool, errno: SystemErrno) -> Message? {
        let base = quoted.startIndex
        let headerLength: Int
        let destination: [UInt8]
        if ipv6 {
            headerLength = 40
            guard quoted.count >= headerLength + 8, quoted[base + 6] == 58 else { return nil }  // next header ICMPv6
            destination = Array(quoted[(base + 24)..<(base + 40)])
        } else {
            guard let first = quoted.first, first >> 4 == 4 else { return nil }
            headerLength = Int(first & 0x0F) * 4
            guard headerLength >= 20, quoted.count >= headerLength + 8, quoted[base + 9] == 1 else { return nil }
            destination = Array(quoted[(base + 16)..<(base + 20)])
        }
        let echo = base + headerLength
        guard quoted[echo] == (ipv6 ? 128 : 8) else { return nil }
        return .unreachable(
            identifier: be16(quoted, echo + 4), sequence: be16(quoted, echo + 6),
            destination: destination, errno: errno)
    }

    private static func be16(_ bytes: ArraySlice<UInt8>, _ index: Int) -> UInt16 {
        UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }
}
