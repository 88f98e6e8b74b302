import NIOCore
import Testing

@testable import NetHealAgent

@Suite struct InboundQueueTests {
    static func datagram(_ byte: UInt8) -> InboundDatagram {
        let address = try! SocketAddress(ipAddress: "198.18.0.10", port: 7946)
        return InboundDatagram(bytes: [byte], source: address, local: address)
    }

    @Test func queuedDatagramsComeOutAsOneBatchInOrder() async {
        let queue = InboundQueue(capacity: 8)
        for byte in UInt8(0)..<5 { #expect(queue.push(Self.datagram(byte)) == .enqueued) }
        let batch = await queue.nextBatch()
        #expect(batch?.map(\.bytes) == [[0], [1], [2], [3], [4]])
        queue.push(Self.datagram(9))
        #expect(await queue.nextBatch()?.map(\.bytes) == [[9]])
    }

    @Test func aFullQueueDropsTheNewestAndAFinishedOneEverything() async {
        let queue = InboundQueue(capacity: 2)
        #expect(queue.push(Self.datagram(1)) == .enqueued)
        #expect(queue.push(Self.datagram(2)) == .enqueued)
        #expect(queue.push(Self.datagram(3)) == .dropped)
        queue.finish()
        #expect(queue.push(Self.datagram(4)) == .terminated)
        // What was queued before the finish still comes out, then the end.
        var seen: [[UInt8]] = []
        for await datagram in queue.datagrams { seen.append(datagram.bytes) }
        #expect(seen == [[1], [2]])
        #expect(await queue.nextBatch() == nil)
    }

    @Test func anIterationThatStopsEarlyLeavesTheRestQueued() async {
        let queue = InboundQueue(capacity: 8)
        for byte in UInt8(0)..<3 { queue.push(Self.datagram(byte)) }
        for await datagram in queue.datagrams {
            #expect(datagram.bytes == [0])
            break
        }
        #expect(await queue.nextBatch(limit: 1)?.map(\.bytes) == [[1]])
        #expect(await queue.nextBatch()?.map(\.bytes) == [[2]])
    }

    @Test func aWaitingConsumerIsHandedTheNextDatagram() async {
        let queue = InboundQueue(capacity: 4)
        async let batch = queue.nextBatch()
        // Give the consumer time to start waiting; either way the datagram must reach it.
        try? await Task.sleep(for: .milliseconds(50))
        queue.push(Self.datagram(7))
        #expect(await batch?.map(\.bytes) == [[7]])
    }

    @Test func cancellingTheConsumerEndsItsWaitButNotTheQueue() async {
        let queue = InboundQueue(capacity: 4)
        let waiting = Task { await queue.nextBatch() }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)
        // A cancelled wait leaves the queue usable by the next consumer.
        queue.push(Self.datagram(3))
        #expect(await queue.nextBatch()?.map(\.bytes) == [[3]])
    }

    @Test func aConsumerCancelledBeforeItWaitsReturnsAtOnce() async {
        let queue = InboundQueue(capacity: 4)
        let waiting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.nextBatch()
        }
        #expect(await waiting.value == nil)
    }
}
