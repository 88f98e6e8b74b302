import Foundation
import NetHealCore

#if canImport(Glibc)
    import Glibc
#endif

/// `struct mmsghdr` of sendmmsg(2) (a GNU extension Swift's Glibc module does not import): same layout.
struct MultiMessageHeader {
    var msg_hdr = msghdr()
    var msg_len: UInt32 = 0
}

/// `sendmmsg(2)`, looked up in libc.
let sendMultipleMessages = LabSockets.libc(
    "sendmmsg", as: (@convention(c) (Int32, UnsafeMutableRawPointer, UInt32, Int32) -> Int32).self)

/// What a flood sender achieved.
public struct LabFloodResult: Sendable, Hashable {
    /// Datagrams the kernel accepted.
    public var sent = 0
    /// Send calls the kernel refused (ENOBUFS, ECONNREFUSED after an ICMP port unreachable, …).
    public var refused = 0
    /// Wall seconds from the first to the last send.
    public var seconds = 0.0
    /// Datagrams sent in each whole second of the flood.
    public var perSecond: [Int] = []
    /// Mean achieved rate, datagrams/s.
    public var rate: Double { seconds > 0 ? Double(sent) / seconds : 0 }
    /// The slowest whole second (datagrams), 0 when the flood was shorter than a second.
    public var slowestSecond: Int { perSecond.min() ?? 0 }
}

/// The hostile traffic of `lab scenario hostile-flood`: payload pools, the wire tap that captures
/// genuine datagrams, and the paced sender.
public enum LabFlood {
    /// Captures the gossip datagrams that members send to `node` for `seconds`, from a packet tap on
    /// the node's switch port (what an attacker with a mirror port records): the distinct UDP payloads
    /// to port 7474 whose source is a member's address, in arrival order, at most `limit`.
    public static func capture(_ fleet: LabFleet, to node: LabNode, seconds: Double, limit: Int = 512) throws
        -> [[UInt8]]
    {
        let fd = try LabSockets.packetTap(in: fleet.topology.switchNamespace, interface: node.switchPort)
        defer { close(fd) }
        let members = Set(fleet.nodes.filter { $0.name != node.name }.map(\.address))
        var seen = Set<[UInt8]>()
        var payloads: [[UInt8]] = []
        var frame = [UInt8](repeating: 0, count: 2048)
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && payloads.count < limit {
            let count = frame.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0, let datagram = gossipPayload(Array(frame[0..<count]), from: members, to: node.address)
            else { continue }
            if seen.insert(datagram).inserted { payloads.append(datagram) }
        }
        return payloads
    }

    /// The UDP payload of an Ethernet/IPv4/UDP frame to `destination:7474` from one of `sources`; nil otherwise.
    static func gossipPayload(_ frame: [UInt8], from sources: Set<String>, to destination: String) -> [UInt8]? {
        guard frame.count >= 14 + 20 + 8, frame[12] == 0x08, frame[13] == 0x00 else { return nil }
        let ip = 14
        let headerLength = Int(frame[ip] & 0x0f) * 4
        guard frame[ip] >> 4 == 4, headerLength >= 20, frame[ip + 9] == 17 else { return nil }
        // Fragments (offset or more-fragments set) are not whole datagrams.
        guard (UInt16(frame[ip + 6] & 0x3f) << 8 | UInt16(frame[ip + 7])) == 0 else { return nil }
        let totalLength = Int(frame[ip + 2]) << 8 | Int(frame[ip + 3])
        let source = frame[(ip + 12)..<(ip + 16)].map(String.init).joined(separator: ".")
        let target = frame[(ip + 16)..<(ip + 20)].map(String.init).joined(separator: ".")
        let udp = ip + headerLength
        guard sources.contains(source), target == destination, totalLength <= frame.count - ip,
            udp + 8 <= ip + totalLength
        else { return nil }
        let port = Int(frame[udp + 2]) << 8 | Int(frame[udp + 3])
        guard port == LabTopology.gossipPort else { return nil }
        return Array(frame[(udp + 8)..<(ip + totalLength)])
    }

    /// 512 seeded garbage datagrams (`SplitMix64(seed:)`, the same every run): a quarter random bytes
    /// of 1…1,400 bytes, a quarter 1…64 bytes, half as long as a genuine datagram of `genuine` and
    /// opening with its first 8 bytes (magic, version, counts) so they get past the first checks.
    public static func garbage(seed: UInt64 = 7, genuine: [[UInt8]]) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<512).map { i in
            let template = genuine.isEmpty ? nil : genuine[i % genuine.count]
            let length: Int
            switch i % 4 {
            case 0: length = Int(rng.next() % 1_400) + 1
            case 1: length = Int(rng.next() % 64) + 1
            default: length = template.map { $0.count } ?? Int(rng.next() % 1_400) + 1
            }
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if i % 4 >= 2, let template, template.count >= 8, bytes.count >= 8 {
                bytes.replaceSubrange(0..<8, with: template[0..<8])
            }
            return bytes
        }
    }

    /// Sends the datagrams of `pool` round robin on the connected socket `fd` for `seconds`, paced to
    /// `rate` per second: every millisecond it sends (with `sendmmsg`, up to 256 at a time) what the
    /// schedule allows so far. Blocking; returns what it achieved.
    public static func send(fd: Int32, pool: [[UInt8]], rate: Double, seconds: Double) -> LabFloodResult {
        precondition(!pool.isEmpty && rate > 0)
        // Every datagram's bytes at a stable address, with one iovec and one mmsghdr each.
        let storage = UnsafeMutableRawPointer.allocate(byteCount: pool.reduce(0) { $0 + $1.count }, alignment: 16)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: pool.count)
        let messages = UnsafeMutablePointer<MultiMessageHeader>.allocate(capacity: pool.count)
        defer {
            storage.deallocate()
            iovecs.deallocate()
            messages.deallocate()
        }
        var offset = 0
        for (i, datagram) in pool.enumerated() {
            datagram.withUnsafeBytes { (storage + offset).copyMemory(from: $0.baseAddress!, byteCount: datagram.count) }
            iovecs[i] = iovec(iov_base: storage + offset, iov_len: datagram.count)
            var header = MultiMessageHeader()
            header.msg_hdr.msg_iov = iovecs + i
            header.msg_hdr.msg_iovlen = 1
            messages[i] = header
            offset += datagram.count
        }
        var result = LabFloodResult()
        result.perSecond = Array(repeating: 0, count: max(1, Int(seconds.rounded(.down))))
        let start = DispatchTime.now().uptimeNanoseconds
        let duration = UInt64(seconds * 1e9)
        var index = 0
        var attempted = 0
        while true {
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if elapsed >= duration { break }
            let due = Int(Double(elapsed) / 1e9 * rate)
            if attempted >= due {
                // Sleep to the next millisecond boundary of the schedule.
                let next = (elapsed / 1_000_000 + 1) * 1_000_000
                usleep(useconds_t(max(50, (next - elapsed) / 1_000)))
                continue
            }
            let batch = min(due - attempted, 256, pool.count - index)
            let count = sendMultipleMessages(fd, UnsafeMutableRawPointer(messages + index), UInt32(batch), 0)
            let second = min(result.perSecond.count - 1, Int(elapsed / 1_000_000_000))
            if count > 0 {
                result.sent += Int(count)
                result.perSecond[second] += Int(count)
                attempted += Int(count)
                index = (index + Int(count)) % pool.count
            } else {
                result.refused += 1
                attempted += 1
                index = (index + 1) % pool.count
            }
        }
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return result
    }
}
