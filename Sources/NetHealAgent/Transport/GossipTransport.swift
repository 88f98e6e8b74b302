import NIOCore
import NIOPosix
import NetHealCore
import Synchronization

/// One datagram as received: its bytes, who sent it, and which local socket received it.
public struct InboundDatagram: Sendable, Hashable {
    public var bytes: [UInt8]
    /// The sender's address and port.
    public var source: SocketAddress
    /// The local gossip address (one of `GossipTransport.localAddresses`) that received it.
    public var local: SocketAddress
}

/// What happened to one `send`: each destination path succeeded or failed on its own.
public struct SendReport: Sendable, Hashable {
    /// Paths the datagram was written to.
    public var sent: [SocketAddress] = []
    /// Paths that failed, with the reason (`ENETUNREACH`, "no local IPv6 socket", …).
    public var failed: [SocketAddress: String] = [:]
}

/// The gossip transport: UDP sockets on every local gossip address (IPv4 and IPv6), the same
/// datagram sent on every path of a peer, and a bounded, rate-limited inbound stream.
///
/// The channel handler only forwards raw datagrams here; size, rate and queue checks happen in
/// `InboundAdmission` under one lock, before the decision loop sees any byte. No protocol logic.
public final class GossipTransport: Sendable {
    /// The bound local addresses, with the ports the kernel chose (for port 0), in the given order.
    public let localAddresses: [SocketAddress]
    /// Admitted datagrams, oldest first, in batches (`InboundQueue.nextBatch`). Bounded by
    /// `settings.queueCapacity`: when full, new ones are dropped.
    public let queue: InboundQueue
    /// The admitted datagrams one at a time.
    public var inbound: InboundQueue.Datagrams { queue.datagrams }
    public let settings: GossipTransportSettings

    /// One socket per local address. A slot's channel is replaced when NIO closed it: NIO closes a
    /// datagram channel on most send errors (e.g. while a heal has the interface's address flushed,
    /// `EADDRNOTAVAIL`/`ENETUNREACH`), and a closed socket would leave the node deaf and mute after
    /// the very heal that repaired its interface.
    private let slots: Mutex<[Slot]>
    private let core: InboundCore

    private struct Slot {
        var channel: any Channel
        let eventLoop: any EventLoop
        var lastRebindAttempt: NIODeadline = .distantPast
    }

    /// Binds one UDP socket per address in `localAddresses` on `group`.
    /// Fails (closing what was bound) if any address cannot be bound.
    public static func bind(
        _ localAddresses: [SocketAddress], settings: GossipTransportSettings = GossipTransportSettings(),
        group: any EventLoopGroup
    ) async throws -> GossipTransport {
        try settings.validate()
        guard !localAddresses.isEmpty else { throw GossipTransportError.noLocalAddresses }
        let queue = InboundQueue(capacity: settings.queueCapacity)
        let core = InboundCore(settings: settings, queue: queue)
        var channels: [any Channel] = []
        var loops: [any EventLoop] = []
        do {
            for address in localAddresses {
                let eventLoop = group.next()
                let bound = Self.bindChannel(to: address, on: eventLoop, settings: settings, core: core)
                do {
                    channels.append(try await bound.get())
                    loops.append(eventLoop)
                } catch {
                    throw GossipTransportError.bindFailed(address: "\(address)", reason: "\(error)")
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            queue.finish()
            throw error
        }
        return GossipTransport(channels: channels, loops: loops, core: core, queue: queue, settings: settings)
    }

    /// One UDP socket on `address`, created on `eventLoop`'s thread (so it lives in that thread's
    /// network namespace, which lets tests run a transport inside a namespace).
    private static func bindChannel(
        to address: SocketAddress, on eventLoop: any EventLoop, settings: GossipTransportSettings, core: InboundCore
    ) -> EventLoopFuture<any Channel> {
        eventLoop.flatSubmit {
            DatagramBootstrap(group: eventLoop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                // One byte more than the limit: anything larger arrives truncated to
                // limit+1 and is recognised as oversize.
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: settings.maxDatagramBytes + 1)
                )
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GossipInboundHandler(core: core))
                    }
                }
                .bind(to: address)
        }
    }

    private init(
        channels: [any Channel], loops: [any EventLoop], core: InboundCore, queue: InboundQueue,
        settings: GossipTransportSettings
    ) {
        self.slots = Mutex(zip(channels, loops).map { Slot(channel: $0, eventLoop: $1) })
        self.core = core
        self.queue = queue
        self.settings = settings
        self.localAddresses = channels.map { $0.localAddress! }
    }

    /// Re-binds every socket NIO has closed (at most once a second per address; the address may
    /// still be missing, e.g. while a heal runs). Called before each send, so a node's gossip
    /// resumes within one gossip round of its address coming back.
    private func reopenClosedSockets() async {
        let now = NIODeadline.now()
        let due: [(Int, any EventLoop)] = slots.withLock { slots in
            var due: [(Int, any EventLoop)] = []
            for index in slots.indices where !slots[index].channel.isActive
                && now - slots[index].lastRebindAttempt >= .seconds(1)
            {
                slots[index].lastRebindAttempt = now
                due.append((index, slots[index].eventLoop))
            }
            return due
        }
        for (index, eventLoop) in due {
            do {
                let channel = try await Self.bindChannel(
                    to: localAddresses[index], on: eventLoop, settings: settings, core: core
                ).get()
                slots.withLock { $0[index].channel = channel }
                core.update { $0.socketsReopened += 1 }
            } catch {
                core.update { $0.socketReopenFailures += 1 }
            }
        }
    }

    /// A snapshot of the counters.
    public var counters: TransportCounters { core.counters }

    /// Sends `bytes` as one datagram to EVERY address in `destinations` (all paths of a peer), each
    /// from the local socket of the same family that shares the longest address prefix with it
    /// (ties: the earlier local address). Returns when every write completed; failures are per path.
    @discardableResult
    public func send(_ bytes: [UInt8], to destinations: [SocketAddress]) async -> SendReport {
        await send([(bytes, destinations)])[0]
    }

    /// Sends several datagrams, each to every address of its destinations (as `send(_:to:)`), with
    /// one flush per socket: the writes of one gossip round leave in one `sendmmsg` where the kernel
    /// allows. One report per datagram, in order.
    public func send(_ batch: [(bytes: [UInt8], to: [SocketAddress])]) async -> [SendReport] {
        var reports = [SendReport](repeating: SendReport(), count: batch.count)
        await reopenClosedSockets()
        var writes: [(datagram: Int, destination: SocketAddress, size: Int, done: EventLoopFuture<Void>)] = []
        var flushing: [ObjectIdentifier: any Channel] = [:]
        var flushOrder: [ObjectIdentifier] = []
        for (k, datagram) in batch.enumerated() {
            guard datagram.bytes.count <= settings.maxDatagramBytes else {
                core.update { $0.sendOversize += 1 }
                for destination in datagram.to {
                    reports[k].failed[destination] = "datagram of \(datagram.bytes.count) bytes exceeds \(settings.maxDatagramBytes)"
                }
                continue
            }
            for destination in datagram.to {
                guard let channel = channel(for: destination) else {
                    core.update { $0.sendNoLocalSocket += 1 }
                    reports[k].failed[destination] = "no local gossip socket for its address family"
                    continue
                }
                let buffer = channel.allocator.buffer(bytes: datagram.bytes)
                let envelope = AddressedEnvelope(remoteAddress: destination, data: buffer)
                writes.append((k, destination, datagram.bytes.count, channel.write(envelope)))
                let id = ObjectIdentifier(channel)
                if flushing.updateValue(channel, forKey: id) == nil { flushOrder.append(id) }
            }
        }
        for id in flushOrder { flushing[id]?.flush() }
        for write in writes {
            do {
                try await write.done.get()
                core.update {
                    $0.datagramsSent += 1
                    $0.bytesSent += write.size
                }
                reports[write.datagram].sent.append(write.destination)
            } catch {
                core.update { $0.sendErrors += 1 }
                reports[write.datagram].failed[write.destination] = "\(error)"
            }
        }
        return reports
    }

    /// Closes every socket and finishes the inbound stream.
    public func close() async {
        for channel in slots.withLock({ $0.map(\.channel) }) { try? await channel.close() }
        core.finish()
    }

    /// The local socket for `destination`: same family, longest common address prefix, earliest first.
    private func channel(for destination: SocketAddress) -> (any Channel)? {
        let target = IPBytes.of(destination)
        var best: (channel: any Channel, prefix: Int)?
        let channels = slots.withLock { $0.map(\.channel) }
        for (channel, local) in zip(channels, localAddresses) where local.protocol == destination.protocol {
            let prefix = Self.commonPrefixBits(IPBytes.of(local), target)
            if best == nil || prefix > best!.prefix { best = (channel, prefix) }
        }
        return best?.channel
    }

    static func commonPrefixBits(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var bits = 0
        for (x, y) in zip(a, b) {
            let difference = x ^ y
            if difference == 0 {
                bits += 8
                continue
            }
            return bits + difference.leadingZeroBitCount
        }
        return bits
    }
}

/// The shared inbound path: admission and counters under one lock, then the bounded queue.
final class InboundCore: Sendable {
    private struct State {
        var admission: InboundAdmission
        var counters = TransportCounters()
    }

    private let state: Mutex<State>
    private let queue: InboundQueue
    private let maxDatagramBytes: Int

    init(settings: GossipTransportSettings, queue: InboundQueue) {
        self.state = Mutex(State(admission: InboundAdmission(settings: settings, now: Self.now())))
        self.queue = queue
        self.maxDatagramBytes = settings.maxDatagramBytes
    }

    var counters: TransportCounters {
        state.withLock { state in
            var counters = state.counters
            counters.trackedSources = state.admission.trackedSources
            counters.overflowSourceAdmissions = state.admission.overflowAdmissions
            return counters
        }
    }

    func update(_ body: (inout TransportCounters) -> Void) {
        state.withLock { body(&$0.counters) }
    }

    /// Checks and queues one received datagram. Oversize ones are never copied.
    func deliver(_ buffer: ByteBuffer, from source: SocketAddress, local: SocketAddress) {
        let size = buffer.readableBytes
        let verdict = state.withLock { state -> InboundAdmission.Verdict in
            state.counters.datagramsReceived += 1
            state.counters.bytesReceived += size
            let verdict = state.admission.admit(size: size, source: IPBytes.of(source), now: Self.now())
            switch verdict {
            case .accept: break
            case .oversize: state.counters.droppedOversize += 1
            case .sourceRateLimited: state.counters.droppedSourceRateLimited += 1
            case .globalRateLimited: state.counters.droppedGlobalRateLimited += 1
            }
            return verdict
        }
        guard verdict == .accept else { return }
        let datagram = InboundDatagram(bytes: Array(buffer.readableBytesView), source: source, local: local)
        // Queued under the lock so a consumer never sees a datagram before it is counted.
        state.withLock { state in
            switch queue.push(datagram) {
            case .enqueued: state.counters.datagramsDelivered += 1
            case .dropped: state.counters.droppedQueueFull += 1
            case .terminated: break
            }
        }
    }

    func readError() { update { $0.readErrors += 1 } }

    func finish() { queue.finish() }

    private static func now() -> Instant { Instant(nanoseconds: Int64(NIODeadline.now().uptimeNanoseconds)) }
}

/// Forwards every received datagram to the `InboundCore`; holds no protocol logic.
final class GossipInboundHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let core: InboundCore
    private var local: SocketAddress?

    init(core: InboundCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        local = context.channel.localAddress
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let local = local ?? context.channel.localAddress else { return }
        core.deliver(envelope.data, from: envelope.remoteAddress, local: local)
    }

    /// Read errors (for example ECONNREFUSED reported for an earlier send) are counted; the socket stays open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.readError()
    }
}
