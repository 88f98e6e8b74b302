import Foundation
import NIOCore
import Testing

@testable import NetHealAgent

@Suite("ICMP packets and routing-table parsing (pure)")
struct ProbeParsingTests {
    // MARK: - ICMP

    @Test func echoRequestHasAValidChecksum() {
        let packet = ICMPEcho.request(identifier: 0x1234, sequence: 0x0102, ipv6: false)
        #expect(Array(packet.prefix(8)) == [8, 0, packet[2], packet[3], 0x12, 0x34, 0x01, 0x02])
        #expect(ICMPEcho.checksum(packet) == 0)  // a correct checksum sums to zero
        // RFC 1071 example bytes.
        #expect(ICMPEcho.checksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == ~UInt16(0xDDF2))
        let v6 = ICMPEcho.request(identifier: 7, sequence: 9, ipv6: true)
        #expect(Array(v6.prefix(8)) == [128, 0, 0, 0, 0, 7, 0, 9])  // the kernel fills the ICMPv6 checksum
    }

    @Test func parsesEchoRepliesWithAndWithoutIPHeader() {
        let ipv4Header: [UInt8] = [0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 61, 2, 198, 18, 61, 1]
        let reply: [UInt8] = [0, 0, 0, 0, 0x4E, 0x48, 0, 100] + ICMPEcho.payload
        #expect(ICMPEcho.parse(ipv4Header + reply, ipv6: false) == .echoReply(identifier: 0x4E48, sequence: 100))
        let reply6: [UInt8] = [129, 0, 0xAB, 0xCD, 0x4E, 0x48, 0, 101]
        #expect(ICMPEcho.parse(reply6, ipv6: true) == .echoReply(identifier: 0x4E48, sequence: 101))
        // Our own request (seen on loopback) and other types are not replies.
        #expect(
            ICMPEcho.parse(ipv4Header + ICMPEcho.request(identifier: 1, sequence: 1, ipv6: false), ipv6: false) == nil)
        #expect(ICMPEcho.parse([128, 0, 0, 0, 0, 1, 0, 1], ipv6: true) == nil)
    }

    @Test func parsesDestinationUnreachableQuotingOurEcho() {
        let outer: [UInt8] = [0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 61, 2, 198, 18, 61, 1]
        let quotedHeader: [UInt8] = [0x45, 0, 0, 28, 0, 0, 0, 0, 63, 1, 0, 0, 198, 18, 61, 1, 198, 18, 99, 1]
        let quotedEcho: [UInt8] = [8, 0, 0, 0, 0x4E, 0x48, 0, 5]
        let hostUnreachable = outer + [3, 1, 0, 0, 0, 0, 0, 0] + quotedHeader + quotedEcho
        #expect(
            ICMPEcho.parse(hostUnreachable, ipv6: false)
                == .unreachable(
                    identifier: 0x4E48, sequence: 5, destination: [198, 18, 99, 1], errno: .hostUnreachable))
        let netUnreachable = outer + [3, 0, 0, 0, 0, 0, 0, 0] + quotedHeader + quotedEcho
        #expect(
            ICMPEcho.parse(netUnreachable, ipv6: false)
                == .unreachable(
                    identifier: 0x4E48, sequence: 5, destination: [198, 18, 99, 1], errno: .networkUnreachable))

        var quoted6 = [UInt8](repeating: 0, count: 40)
        quoted6[0] = 0x60
        quoted6[6] = 58
        let destination6: [UInt8] = [0x20, 0x01, 0, 2, 0, 0, 0, 0x61, 0, 0, 0, 0, 0, 0, 0, 9]
        quoted6.replaceSubrange(24..<40, with: destination6)
        let unreachable6 = [1, 3, 0, 0, 0, 0, 0, 0] + quoted6 + [128, 0, 0, 0, 0x4E, 0x48, 0, 6]
        #expect(
            ICMPEcho.parse(unreachable6, ipv6: true)
                == .unreachable(identifier: 0x4E48, sequence: 6, destination: destination6, errno: .hostUnreachable))
    }

    @Test func truncatedAndGarbagePacketsAreIgnored() {
        #expect(ICMPEcho.parse([], ipv6: false) == nil)
        #expect(ICMPEcho.parse([0x45, 0, 0], ipv6: false) == nil)
        #expect(ICMPEcho.parse([0x60] + [UInt8](repeating: 0, count: 30), ipv6: false) == nil)
        #expect(ICMPEcho.parse([129, 0, 0], ipv6: true) == nil)
        let header: [UInt8] = [0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
        #expect(ICMPEcho.parse(header + [3, 1, 0, 0, 0, 0, 0, 0, 0x45], ipv6: false) == nil)  // quote cut short
        #expect(ICMPEcho.parse([0x4F] + [UInt8](repeating: 0, count: 50), ipv6: false) == nil)  // IHL beyond the data
    }

    @Test func errnoNamesAreSymbolic() {
        #expect(SystemErrno.networkUnreachable.name == "ENETUNREACH")
        #expect(SystemErrno.hostUnreachable.name == "EHOSTUNREACH")
        #expect(SystemErrno.noDevice.name == "ENODEV")
        #expect(SystemErrno.networkUnreachable.description == "ENETUNREACH: Network is unreachable")
        #expect(SystemErrno(9_999).name == "errno 9999")
        #expect(ProbeOutcome.sendError(.hostUnreachable).description == "send error EHOSTUNREACH")
        #expect(!ProbeOutcome.timedOut.isSuccess && ProbeOutcome.answered(rtt: .zero).isSuccess)
    }

    // MARK: - Routing tables

    static let procNetRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
        eth0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0
        eth0\t00000000\t0100000A\t0003\t0\t0\t200\t00000000\t0\t0\t0
        eth0\t00000000\t0200000A\t0003\t0\t0\t50\t00000000\t0\t0\t0
        eth0\t00000000\t0300000A\t0203\t0\t0\t10\t00000000\t0\t0\t0
        eth0\t00000000\t0400000A\t0001\t0\t0\t5\t00000000\t0\t0\t0
        eth0\t0000A8C0\t0500000A\t0003\t0\t0\t1\t0000FFFF\t0\t0\t0

        """

    @Test func ipv4DefaultRouteUsesTheLowestUsableMetricOnTheInterface() {
        // 10.0.0.3 is a REJECT route, 10.0.0.4 has no GATEWAY flag, 10.0.0.5 is not a default route.
        let route = GatewayDiscovery.ipv4DefaultRoute(procNetRoute: Self.procNetRoute, interface: "eth0")
        #expect(route?.gateway.ipAddress == "10.0.0.2")
        #expect(route?.metric == 50)
        #expect(
            GatewayDiscovery.ipv4DefaultRoute(procNetRoute: Self.procNetRoute, interface: "eth1")?.gateway.ipAddress
                == "192.168.1.1")
        #expect(GatewayDiscovery.ipv4DefaultRoute(procNetRoute: Self.procNetRoute, interface: "eth2") == nil)
        #expect(GatewayDiscovery.ipv4DefaultRoute(procNetRoute: "", interface: "eth0") == nil)
    }

    @Test func ipv4ByteScannerRejectsWhatTheTableDoesNotSay() {
        // The scanner reads fields in place: a longer or shorter interface name, a field that is not
        // hex or decimal, a metric beyond 32 bits, a line cut short and spaces instead of tabs.
        let text = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask
            eth01\t00000000\t0900000A\t0003\t0\t0\t1\t00000000
            eth\t00000000\t0800000A\t0003\t0\t0\t1\t00000000
            eth0\t00000000\t0700000A\t0003\t0\t0\t4294967296\t00000000
            eth0\t00000000\t06x0000A\t0003\t0\t0\t1\t00000000
            eth0\t00000000\t0500000A\t0003\t0\t0\t1
            eth0  00000000  0400000a  0003  0  0  7  00000000
            eth0\t00000000\t0300000A\t0003\t0\t0\t9\t00000000
            """
        let route = GatewayDiscovery.ipv4DefaultRoute(procNetRoute: Array(text.utf8), interface: "eth0")
        #expect(route?.gateway.ipAddress == "10.0.0.4")
        #expect(route?.metric == 7)
        // The header line is never a route, even when it looks like one.
        let headerOnly = "eth0\t00000000\t0100000A\t0003\t0\t0\t1\t00000000\n"
        #expect(GatewayDiscovery.ipv4DefaultRoute(procNetRoute: headerOnly, interface: "eth0") == nil)
    }

    static let procNetIPv6Route = """
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010002000000610000000000000002 00000100 00000001 00000000 00000003     eth0
        20010002000000610000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo

        """

    @Test func ipv6DefaultRouteKeepsTheLinkLocalScope() {
        let route = GatewayDiscovery.ipv6DefaultRoute(
            procNetIPv6Route: Self.procNetIPv6Route, interface: "eth0", scopeID: 7)
        #expect(route?.gateway.ipAddress == "2001:2:0:61::2")
        #expect(route?.metric == 0x100)
        let linkLocalOnly = Self.procNetIPv6Route.split(separator: "\n").first.map(String.init)! + "\n"
        let linkLocal = GatewayDiscovery.ipv6DefaultRoute(
            procNetIPv6Route: linkLocalOnly, interface: "eth0", scopeID: 7)
        #expect(linkLocal?.gateway.ipAddress == "fe80::1")
        if case .v6(let address) = linkLocal?.gateway {
            #expect(address.address.sin6_scope_id == 7)
        } else {
            Issue.record("expected an IPv6 gateway")
        }
        // lo's unreachable default (REJECT) is never a gateway.
        #expect(GatewayDiscovery.ipv6DefaultRoute(procNetIPv6Route: Self.procNetIPv6Route, interface: "lo") == nil)
    }

    /// `preferred` is `discover(...).first` on every table combination, reading IPv6 only when needed.
    @Test func preferredRouteIsTheFirstDiscoveredOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nh-routes-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let v4 = directory.appendingPathComponent("route").path
        let v6 = directory.appendingPathComponent("ipv6_route").path
        try Self.procNetRoute.write(toFile: v4, atomically: true, encoding: .utf8)
        try Self.procNetIPv6Route.write(toFile: v6, atomically: true, encoding: .utf8)
        for interface in ["eth0", "eth1", "lo", "wg0", "nonexistent0"] {
            for (four, six) in [(v4, v6), ("/nonexistent/route", v6), (v4, "/nonexistent/ipv6_route")] {
                let first = try GatewayDiscovery.discover(interface: interface, ipv4Path: four, ipv6Path: six).first
                let preferred = try GatewayDiscovery.preferred(interface: interface, ipv4Path: four, ipv6Path: six)
                #expect(preferred?.gateway == first?.gateway && preferred?.metric == first?.metric, "\(interface) \(four) \(six)")
            }
        }
    }

    @Test func missingRouteFilesMeanNoRoutes() throws {
        let routes = try GatewayDiscovery.discover(
            interface: "eth0", ipv4Path: "/nonexistent/route", ipv6Path: "/nonexistent/ipv6_route")
        #expect(routes.isEmpty)
    }
}
