import NIOCore
import NIOPosix
import Testing

@testable import NetHealAgent

/// Real UDP on loopback (127.0.0.1 and [::1], ephemeral ports).
@Suite("Gossip transport (real UDP on loopback)")
struct TransportTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func threeTransportsExchangeOverIPv4AndIPv6() async throws {
        let a = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0), try .init(ipAddress: "::1", port: 0)], group: group)
        let b = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        let c = try await GossipTransport.bind([try .init(ipAddress: "::1", port: 0)], group: group)
        defer {
            Task {
                await a.close(); await b.close(); await c.close()
            }
        }

        let toB = await a.send(Array("hello b".utf8), to: b.localAddresses)
        #expect(toB.sent == b.localAddresses && toB.failed.isEmpty)
        let toC = await a.send(Array("hello c".utf8), to: c.localAddresses)
        #expect(toC.sent == c.localAddresses)
        await b.send(Array("hello a".utf8), to: a.localAddresses)

        let atB = await collect(b.inbound, count: 1)
        #expect(atB.map(\.bytes) == [Array("hello b".utf8)])
        #expect(atB.first?.source == a.localAddresses[0])  // sent from a's IPv4 socket
        #expect(atB.first?.local == b.localAddresses[0])
        let atC = await collect(c.inbound, count: 1)
        #expect(atC.map(\.bytes) == [Array("hello c".utf8)])
        #expect(atC.first?.source == a.localAddresses[1])  // sent from a's IPv6 socket
        // b has only IPv4: a hears b on its IPv4 socket only, from b's socket.
        let atA = await collect(a.inbound, count: 1)
        #expect(atA.first?.local == a.localAddresses[0])
        #expect(atA.first?.source == b.localAddresses[0])
        #expect(a.counters.datagramsSent == 2 && a.counters.datagramsDelivered == 1)
        #expect(b.counters.datagramsReceived == 1 && b.counters.datagramsDelivered == 1)
    }

    @Test func everyPathOfAPeerGetsTheDatagramAndADeadPathDoesNotStopTheOthers() async throws {
        let a = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0), try .init(ipAddress: "::1", port: 0)], group: group)
        let b = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0), try .init(ipAddress: "::1", port: 0)], group: group)
        let v4Only = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        // A dead path: a port nobody listens on any more.
        let gone = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        let deadAddress = gone.localAddresses[0]
        await gone.close()
        defer {
            Task {
                await a.close(); await b.close(); await v4Only.close()
            }
        }

        // Both live paths carry the same datagram: b hears it on both local addresses.
        let report = await a.send([1, 2, 3], to: [deadAddress] + b.localAddresses)
        #expect(report.sent.count == 3)
        let copies = await collect(b.inbound, count: 2)
        #expect(copies.map(\.bytes) == [[1, 2, 3], [1, 2, 3]])
        #expect(Set(copies.map(\.local)) == Set(b.localAddresses))

        // The data path is unusable (no local IPv6 socket): the management path still delivers.
        let partial = await v4Only.send([9], to: [b.localAddresses[1], b.localAddresses[0]])
        #expect(partial.sent == [b.localAddresses[0]])
        #expect(partial.failed.keys.contains(b.localAddresses[1]))
        #expect(v4Only.counters.sendNoLocalSocket == 1)
        let heard = await collect(b.inbound, count: 1)
        #expect(heard.map(\.bytes) == [[9]])
        #expect(heard.first?.local == b.localAddresses[0])
    }

    @Test func oversizeDatagramsAreDroppedAndCountedBeforeDecoding() async throws {
        var big = GossipTransportSettings()
        big.maxDatagramBytes = 4_000
        let sender = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0)], settings: big, group: group)
        let receiver = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        defer {
            Task {
                await sender.close(); await receiver.close()
            }
        }

        await sender.send([UInt8](repeating: 0xAA, count: 1_401), to: receiver.localAddresses)
        await sender.send([UInt8](repeating: 0xBB, count: 3_000), to: receiver.localAddresses)
        await sender.send([UInt8](repeating: 0xCC, count: 1_400), to: receiver.localAddresses)
        let delivered = await collect(receiver.inbound, count: 1)
        #expect(delivered.map(\.bytes) == [[UInt8](repeating: 0xCC, count: 1_400)])
        #expect(await eventually { receiver.counters.datagramsReceived == 3 })
        #expect(receiver.counters.droppedOversize == 2)
        #expect(receiver.counters.datagramsDelivered == 1)

        // The transport refuses to send what its peers would drop.
        let refused = await receiver.send([UInt8](repeating: 0, count: 1_401), to: sender.localAddresses)
        #expect(refused.sent.isEmpty && receiver.counters.sendOversize == 1)
    }

    @Test func perSourceRateLimitDropsAndCountsABurst() async throws {
        var limited = GossipTransportSettings()
        limited.perSourceLimit = .init(perSecond: 1, burst: 5)
        let receiver = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0)], settings: limited, group: group)
        let noisy = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        defer {
            Task {
                await receiver.close(); await noisy.close()
            }
        }

        let started = ContinuousClock.now
        for index in 0..<50 { await noisy.send([UInt8(index)], to: receiver.localAddresses) }
        #expect(await eventually { receiver.counters.datagramsReceived == 50 })
        let elapsed = ContinuousClock.now - started
        let counters = receiver.counters
        // Burst of 5, plus the tokens refilled (1/s) while the burst was sent and received (a loaded
        // machine can stretch that over seconds), plus one.
        let refilled = Int(elapsed.components.seconds) + 2
        #expect((5...(5 + refilled)).contains(counters.datagramsDelivered), "elapsed \(elapsed)")
        #expect(counters.datagramsDelivered < 50)
        #expect(counters.droppedSourceRateLimited == 50 - counters.datagramsDelivered)
        #expect(counters.droppedGlobalRateLimited == 0)
    }

    @Test func globalRateLimitDropsAcrossSources() async throws {
        var limited = GossipTransportSettings()
        limited.globalLimit = .init(perSecond: 1, burst: 6)
        let receiver = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0), try .init(ipAddress: "::1", port: 0)], settings: limited,
            group: group)
        let v4 = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        let v6 = try await GossipTransport.bind([try .init(ipAddress: "::1", port: 0)], group: group)
        defer {
            Task {
                await receiver.close(); await v4.close(); await v6.close()
            }
        }

        let started = ContinuousClock.now
        for index in 0..<10 {
            await v4.send([UInt8(index)], to: receiver.localAddresses)
            await v6.send([UInt8(index)], to: receiver.localAddresses)
        }
        #expect(await eventually { receiver.counters.datagramsReceived == 20 })
        let elapsed = ContinuousClock.now - started
        let counters = receiver.counters
        // Burst of 6 plus the tokens refilled (1/s) meanwhile (seconds on a loaded machine), plus one.
        let refilled = Int(elapsed.components.seconds) + 2
        #expect((6...(6 + refilled)).contains(counters.datagramsDelivered), "elapsed \(elapsed)")
        #expect(counters.datagramsDelivered < 20)
        #expect(counters.droppedGlobalRateLimited == 20 - counters.datagramsDelivered)
        #expect(counters.droppedSourceRateLimited == 0)
        #expect(counters.trackedSources == 2)
    }

    @Test func theInboundQueueIsBoundedAndDropsTheNewest() async throws {
        var small = GossipTransportSettings()
        small.queueCapacity = 4
        let receiver = try await GossipTransport.bind(
            [try .init(ipAddress: "127.0.0.1", port: 0)], settings: small, group: group)
        let sender = try await GossipTransport.bind([try .init(ipAddress: "127.0.0.1", port: 0)], group: group)
        defer { Task { await sender.close() } }

        for index in 0..<20 { await sender.send([UInt8(index)], to: receiver.localAddresses) }
        #expect(await eventually { receiver.counters.datagramsReceived == 20 })
        #expect(receiver.counters.datagramsDelivered == 4)
        #expect(receiver.counters.droppedQueueFull == 16)
        // The queue holds the 4 oldest; closing ends the stream after them.
        await receiver.close()
        var queued: [[UInt8]] = []
        for await datagram in receiver.inbound { queued.append(datagram.bytes) }
        #expect(queued == [[0], [1], [2], [3]])
    }

    @Test func bindingAnUnavailableAddressFailsWithTheAddress() async throws {
        // 192.0.2.1 (TEST-NET-1) is not configured here: bind fails, nothing is sent anywhere.
        await #expect(throws: GossipTransportError.self) {
            _ = try await GossipTransport.bind([try .init(ipAddress: "192.0.2.1", port: 0)], group: group)
        }
    }
}

/// Reads `count` datagrams from `stream`, or what arrived before `timeout`.
func collect(
    _ stream: InboundQueue.Datagrams, count: Int, timeout: Duration = .seconds(5)
) async -> [InboundDatagram] {
    await withTaskGroup(of: [InboundDatagram]?.self) { group in
        group.addTask {
            var received: [InboundDatagram] = []
            for await datagram in stream {
                received.append(datagram)
                if received.count == count { break }
            }
            return received
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first ?? []
    }
}

/// Polls `condition` every 10 ms for up to `timeout`.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
