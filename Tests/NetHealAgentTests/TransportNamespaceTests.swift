import NIOCore
import NIOPosix
import Testing

@testable import NetHealAgent

/// Two nodes in network namespaces with a data path (198.18.61.0/24) and a management path
/// (198.18.63.0/24). Each transport's event loop thread is started from a thread that joined the
/// node's namespace, so the transport's sockets live there.
@Suite("Gossip transport across namespaces", .enabled(if: ProbeLab.canRun, ProbeLab.skipReason))
struct TransportNamespaceTests {
    @Test func aNodeWithABrokenDataInterfaceStillHearsItsPeerOverTheManagementPath() async throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        let managementA = "nhma\(getpid() % 1_000_000)"
        let managementB = "nhmb\(getpid() % 1_000_000)"
        try ProbeLab.ip("link", "add", managementA, "type", "veth", "peer", "name", managementB)
        try ProbeLab.ip("link", "set", managementA, "netns", lab.nsA)
        try ProbeLab.ip("link", "set", managementB, "netns", lab.nsB)
        try lab.ip(lab.nsA, "addr", "add", "198.18.63.1/24", "dev", managementA)
        try lab.ip(lab.nsB, "addr", "add", "198.18.63.2/24", "dev", managementB)
        try lab.ip(lab.nsA, "link", "set", managementA, "up")
        try lab.ip(lab.nsB, "link", "set", managementB, "up")

        let loopsA = try lab.run(in: lab.nsA) { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let loopsB = try lab.run(in: lab.nsB) { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let a = try await GossipTransport.bind(
            [try .init(ipAddress: lab.addressA, port: 0), try .init(ipAddress: "198.18.63.1", port: 0)], group: loopsA)
        let b = try await GossipTransport.bind(
            [try .init(ipAddress: lab.addressB, port: 0), try .init(ipAddress: "198.18.63.2", port: 0)], group: loopsB)

        // Healthy: both paths carry the view.
        let healthy = await b.send([1], to: a.localAddresses)
        #expect(healthy.sent == a.localAddresses)
        let both = await collect(a.inbound, count: 2)
        #expect(Set(both.map(\.local)) == Set(a.localAddresses))

        // a's data interface breaks: its own send on that path fails with ENETUNREACH, the
        // management path still carries the datagram, and a still hears b.
        try lab.ip(lab.nsA, "link", "set", lab.vethA, "down")
        let fromBroken = await a.send([2], to: b.localAddresses)
        #expect(fromBroken.sent == [b.localAddresses[1]])
        #expect(
            fromBroken.failed[b.localAddresses[0]]?.contains("unreachable") == true,
            "\(fromBroken.failed)")
        #expect(a.counters.sendErrors == 1)
        let atB = await collect(b.inbound, count: 1)
        #expect(atB.map(\.bytes) == [[2]])
        #expect(atB.first?.local == b.localAddresses[1])

        await b.send([3], to: a.localAddresses)
        let verdict = await collect(a.inbound, count: 1)
        #expect(verdict.map(\.bytes) == [[3]])
        #expect(verdict.first?.local == a.localAddresses[1])
        #expect(verdict.first?.source == b.localAddresses[1])

        await a.close()
        await b.close()
        try await loopsA.shutdownGracefully()
        try await loopsB.shutdownGracefully()
    }

    /// A heal flushes and restores the interface's address. Sends in between fail and NIO closes
    /// the datagram socket; the transport must bind it again, or the healed node stays mute and deaf.
    @Test func aSocketClosedWhileTheAddressWasGoneIsReopenedOnceItIsBack() async throws {
        let lab = try ProbeLab()
        defer { lab.destroy() }
        let loopsA = try lab.run(in: lab.nsA) { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let loopsB = try lab.run(in: lab.nsB) { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let a = try await GossipTransport.bind([try .init(ipAddress: lab.addressA, port: 0)], group: loopsA)
        let b = try await GossipTransport.bind([try .init(ipAddress: lab.addressB, port: 0)], group: loopsB)

        // The wedge: the address is gone, sends fail (and NIO closes the socket).
        try lab.ip(lab.nsA, "-4", "addr", "flush", "dev", lab.vethA)
        for _ in 0..<3 { await a.send([1], to: b.localAddresses) }
        #expect(a.counters.sendErrors >= 1)

        // The heal puts the address back; within a couple of rounds a's socket works again.
        try lab.ip(lab.nsA, "addr", "add", "\(lab.addressA)/24", "dev", lab.vethA)
        var delivered = false
        for round in 0..<8 where !delivered {
            if round > 0 { try await Task.sleep(for: .milliseconds(500)) }
            let report = await a.send([UInt8(round)], to: b.localAddresses)
            delivered = report.sent == b.localAddresses
        }
        #expect(delivered, "a's gossip resumed after the address came back")
        #expect(a.counters.socketsReopened >= 1)
        let atB = await collect(b.inbound, count: 1)
        #expect(atB.count == 1)
        // And a hears b again on the reopened socket.
        await b.send([9], to: a.localAddresses)
        let atA = await collect(a.inbound, count: 1)
        #expect(atA.map(\.bytes) == [[9]])

        await a.close()
        await b.close()
        try await loopsA.shutdownGracefully()
        try await loopsB.shutdownGracefully()
    }
}
