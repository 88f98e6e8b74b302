import NIOCore
import NIOPosix
import Testing

@testable import NetHealAgent

#if canImport(Glibc)
import Glibc
#endif

/// Real probes in real network namespaces: the prober runs on a thread that joined namespace `a`
/// with setns(2), so its sockets (and SO_BINDTODEVICE) live there; `b` is the target.
@Suite("Probes in network namespaces", .enabled(if: ProbeLab.canRun, ProbeLab.skipReason))
struct ProbeNamespaceTests {
    func settings(_ lab: ProbeLab, bound: Bool = true, timeout: Duration = .milliseconds(800)) -> ProbeSettings {
        ProbeSettings(interface: bound ? lab.vethA : nil, timeout: timeout, icmpIdentifier: 0x4E48)
    }

    func target(_ address: String, _ method: ProbeTarget.Method) throws -> ProbeTarget {
        ProbeTarget(address: try SocketAddress(ipAddress: address, port: 0), method: method)
    }

    @Test func icmpAndTcpProbesBoundToTheVethAnswer() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        let listener = try lab.listenTCP(in: lab.nsB, address: lab.addressB, port: 7070)
        let listener6 = try lab.listenTCP(in: lab.nsB, address: lab.address6B, port: 7070)
        defer { close(listener); close(listener6) }

        let targets = [
            try target(lab.addressB, .icmpEcho),
            try target(lab.addressB, .tcpConnect(port: 7070)),
            try target(lab.addressB, .tcpConnect(port: 7071)),  // closed: the RST proves the path
            try target(lab.address6B, .icmpEcho),
            try target(lab.address6B, .tcpConnect(port: 7070)),
        ]
        let round = ProbeRound(targets: targets, settings: settings(lab), firstSequence: 100)
        let results = try lab.run(in: lab.nsA) { round.run() }
        #expect(results.map(\.target) == targets)
        for result in results {
            #expect(result.outcome.isSuccess, "\(result)")
        }
    }

    @Test func aDestinationWithoutRouteIsASendErrorNotATimeout() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        // Unbound, the routing table decides: 198.18.99.1 has no route in namespace a.
        let targets = [try target("198.18.99.1", .icmpEcho), try target("198.18.99.1", .tcpConnect(port: 80))]
        let clock = ContinuousClock()
        let start = clock.now
        let unbound = try lab.run(in: lab.nsA) {
            ProbeRound(targets: targets, settings: settings(lab, bound: false)).run()
        }
        #expect(unbound.map(\.outcome) == [.sendError(.networkUnreachable), .sendError(.networkUnreachable)])
        #expect(start.duration(to: clock.now) < .milliseconds(500), "a send error must not wait for the timeout")
        #expect(unbound.allSatisfy { !$0.outcome.isSuccess })
        #expect(unbound.first?.outcome.description == "send error ENETUNREACH")

        // Bound to an interface that does not exist: ENODEV, named.
        var missingSettings = settings(lab)
        missingSettings.interface = "nhp-nosuchif"
        let missing = ProbeRound(targets: [try target(lab.addressB, .icmpEcho)], settings: missingSettings)
        let noDevice = try lab.run(in: lab.nsA) { missing.run() }
        #expect(noDevice.map(\.outcome) == [.sendError(.noDevice)])
    }

    @Test func withTheLinkDownProbesFailWithENETUNREACH() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        try lab.ip(lab.nsA, "link", "set", lab.vethA, "down")
        let targets = [
            try target(lab.addressB, .icmpEcho), try target(lab.addressB, .tcpConnect(port: 7070)),
            try target(lab.address6B, .icmpEcho),
        ]
        let results = try lab.run(in: lab.nsA) { ProbeRound(targets: targets, settings: settings(lab)).run() }
        #expect(results.map(\.outcome) == Array(repeating: .sendError(.networkUnreachable), count: 3))
    }

    @Test func afterAnAddressFlushProbesFail() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        let listener = try lab.listenTCP(in: lab.nsB, address: lab.addressB, port: 7070)
        defer { close(listener) }
        let targets = [try target(lab.addressB, .icmpEcho), try target(lab.addressB, .tcpConnect(port: 7070))]
        // The lab is ready once both probes answer (a fresh veth may need a moment and an ARP round
        // on a loaded machine); that readiness is setup, not the property under test.
        var before: [ProbeResult] = []
        for _ in 0..<5 {
            before = try lab.run(in: lab.nsA) { ProbeRound(targets: targets, settings: settings(lab)).run() }
            if before.allSatisfy({ $0.outcome.isSuccess }) { break }
        }
        #expect(before.allSatisfy { $0.outcome.isSuccess }, "\(before)")

        // Like a lost DHCP lease.
        try lab.ip(lab.nsA, "-4", "addr", "flush", "dev", lab.vethA)
        let bound = try lab.run(in: lab.nsA) { ProbeRound(targets: targets, settings: settings(lab)).run() }
        // Bound to the device, the kernel treats the destination as on-link and sends from no
        // address: nothing answers (a timeout) or the send is refused; never a success.
        for result in bound {
            #expect(!result.outcome.isSuccess, "\(result)")
        }
        let unbound = try lab.run(in: lab.nsA) {
            ProbeRound(targets: targets, settings: settings(lab, bound: false)).run()
        }
        #expect(unbound.map(\.outcome) == [.sendError(.networkUnreachable), .sendError(.networkUnreachable)])
    }

    @Test func aSilentPeerIsATimeoutAndTargetsRunConcurrently() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        // Drop everything in b: the link stays up, nothing answers (ARP still resolves).
        try lab.ip(lab.nsB, "link", "set", "lo", "up")
        try lab.ip(lab.nsB, "addr", "del", "\(lab.addressB)/24", "dev", lab.vethB)
        try lab.ip(lab.nsB, "-6", "addr", "del", "\(lab.address6B)/64", "dev", lab.vethB)
        let targets = [
            try target(lab.addressB, .icmpEcho), try target(lab.addressB, .tcpConnect(port: 7070)),
            try target(lab.address6B, .icmpEcho),
        ]
        let clock = ContinuousClock()
        let start = clock.now
        let results = try lab.run(in: lab.nsA) {
            ProbeRound(targets: targets, settings: settings(lab, timeout: .seconds(1))).run()
        }
        let elapsed = start.duration(to: clock.now)
        for result in results {
            // Neighbour resolution fails: a timeout, or EHOSTUNREACH once the kernel gives up.
            #expect(result.outcome == .timedOut || result.outcome == .sendError(.hostUnreachable), "\(result)")
        }
        #expect(elapsed >= .milliseconds(900))
        // Concurrent: one timeout for the round. One after another would take at least 3 s.
        #expect(elapsed < .milliseconds(2_900), "three 1-second probes ran one after another: \(elapsed)")
    }

    @Test func gatewayDiscoveryReadsTheNamespacesRoutingTable() throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        try lab.ip(lab.nsA, "route", "add", "default", "via", lab.addressB, "dev", lab.vethA, "metric", "50")
        try lab.ip(lab.nsA, "-6", "route", "add", "default", "via", lab.address6B, "dev", lab.vethA, "metric", "60")
        let vethA = lab.vethA
        let routes = try lab.run(in: lab.nsA) {
            try GatewayDiscovery.discover(
                interface: vethA, ipv4Path: "/proc/thread-self/net/route", ipv6Path: "/proc/thread-self/net/ipv6_route")
        }
        #expect(routes.map { $0.gateway.ipAddress } == [lab.addressB, lab.address6B])
        #expect(routes.map(\.metric) == [50, 60])
        let other = try lab.run(in: lab.nsA) {
            try GatewayDiscovery.discover(
                interface: "lo", ipv4Path: "/proc/thread-self/net/route",
                ipv6Path: "/proc/thread-self/net/ipv6_route")
        }
        #expect(other.isEmpty)

        // Probing the discovered gateway answers; a target behind it does not (b does not forward).
        let gateway = ProbeTarget(address: routes[0].gateway, method: .icmpEcho, name: "gateway")
        let behind = try target("198.18.99.1", .icmpEcho)
        let results = try lab.run(in: lab.nsA) {
            ProbeRound(targets: [gateway, behind], settings: settings(lab)).run()
        }
        #expect(results[0].outcome.isSuccess)
        #expect(results[1].outcome == .timedOut)
    }
}

/// Probes on loopback in the test's own namespace, through the async thread-pool API.
@Suite("Probes on loopback", .enabled(if: getuid() == 0, "raw ICMP sockets need root (CAP_NET_RAW)"))
struct ProbeLoopbackTests {
    @Test func theAsyncRoundAnswersOnLoopback() async throws {
        let targets = [
            ProbeTarget(address: try SocketAddress(ipAddress: "127.0.0.1", port: 0), method: .icmpEcho),
            ProbeTarget(address: try SocketAddress(ipAddress: "::1", port: 0), method: .icmpEcho),
            // A closed port: the kernel's RST is an answer.
            ProbeTarget(address: try SocketAddress(ipAddress: "127.0.0.1", port: 0), method: .tcpConnect(port: 9)),
        ]
        let runner = ProbeRunner(settings: ProbeSettings(interface: "lo", timeout: .seconds(1)))
        // Several rounds back to back: fresh sequence numbers each time, every round answers.
        for _ in 0..<3 {
            let results = try await runner.run(targets)
            #expect(results.map(\.target) == targets)
            for result in results {
                #expect(result.outcome.isSuccess, "\(result)")
            }
        }
    }
}
