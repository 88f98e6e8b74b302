import Synchronization

/// The bounded queue between the gossip sockets and the decision loop: admitted datagrams, oldest
/// first, handed to one consumer in batches (everything queued when it asks).
///
/// It replaces an `AsyncStream`: that generic type costs runtime metadata lookups and one consumer
/// resumption per datagram, a measurable share of an idle agent's CPU (docs/lab.md, "Agent CPU").
/// Here a datagram that arrives while the consumer is busy waits in the queue and is taken with the
/// others in the consumer's next call; the consumer is resumed only when it waits on an empty queue.
/// When full (`capacity`, default `GossipTransportSettings.queueCapacity`), new datagrams are dropped.
public final class InboundQueue: Sendable {
    /// What `push` did with a datagram.
    public enum PushResult: Sendable, Equatable {
        /// Queued (or handed straight to the waiting consumer).
        case enqueued
        /// The queue was full: dropped.
        case dropped
        /// The queue was finished: dropped.
        case terminated
    }

    private struct State {
        var items: [InboundDatagram] = []
        var waiter: CheckedContinuation<[InboundDatagram]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    /// The most datagrams queued at once.
    public let capacity: Int

    /// A queue of at most `capacity` datagrams (at least 1).
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Queues `datagram`, or hands it to the consumer if it is waiting.
    @discardableResult
    public func push(_ datagram: InboundDatagram) -> PushResult {
        let (result, waiter): (PushResult, CheckedContinuation<[InboundDatagram]?, Never>?) = state.withLock { state in
            if state.finished { return (.terminated, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.enqueued, waiter)
            }
            guard state.items.count < capacity else { return (.dropped, nil) }
            state.items.append(datagram)
            return (.enqueued, nil)
        }
        waiter?.resume(returning: [datagram])
        return result
    }

    /// Ends the queue: datagrams already queued are still returned, then `nextBatch` returns nil.
    public func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Every queued datagram, oldest first, waiting until there is one. Nil once the queue is
    /// finished and empty, or when the calling task is cancelled. One consumer at a time.
    public func nextBatch() async -> [InboundDatagram]? {
        if let ready = takeReady() { return ready.isEmpty ? nil : ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[InboundDatagram]?, Never>) in
                let immediate: [InboundDatagram]?? = state.withLock { state in
                    if !state.items.isEmpty {
                        let items = state.items
                        state.items = []
                        return .some(items)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "InboundQueue has one consumer at a time")
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// The queued datagrams if there are any; `[]` when finished and empty; nil when the caller must wait.
    private func takeReady() -> [InboundDatagram]? {
        state.withLock { state in
            if !state.items.isEmpty {
                let items = state.items
                state.items = []
                return items
            }
            return state.finished ? [] : nil
        }
    }

    /// The datagrams one at a time (for tests and tools; the agent takes batches).
    public var datagrams: Datagrams { Datagrams(queue: self) }

    /// The queue as an `AsyncSequence` of single datagrams.
    public struct Datagrams: AsyncSequence, Sendable {
        let queue: InboundQueue

        public func makeAsyncIterator() -> Iterator { Iterator(queue: queue) }

        /// Takes a batch when its buffer is empty and returns its datagrams one by one.
        public struct Iterator: AsyncIteratorProtocol {
            let queue: InboundQueue
            var buffer: [InboundDatagram] = []
            var position = 0

            public mutating func next() async -> InboundDatagram? {
                if position == buffer.count {
                    guard let batch = await queue.nextBatch() else { return nil }
                    buffer = batch
                    position = 0
                }
                defer { position += 1 }
                return buffer[position]
            }
        }
    }
}
