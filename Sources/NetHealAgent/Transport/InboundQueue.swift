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

    /// The queued datagrams, oldest first (at most `limit`, default all; the rest stay queued),
    /// waiting until there is one. Nil once the queue is finished and empty, or when the calling task
    /// is cancelled. One consumer at a time.
    public func nextBatch(limit: Int = .max) async -> [InboundDatagram]? {
        let limit = max(1, limit)
        if let ready = takeReady(limit: limit) { return ready.isEmpty ? nil : ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[InboundDatagram]?, Never>) in
                let immediate: [InboundDatagram]?? = state.withLock { state in
                    if !state.items.isEmpty { return .some(Self.take(&state.items, limit: limit)) }
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

    /// The queued datagrams (at most `limit`) if there are any; `[]` when finished and empty; nil
    /// when the caller must wait.
    private func takeReady(limit: Int) -> [InboundDatagram]? {
        state.withLock { state in
            if !state.items.isEmpty { return Self.take(&state.items, limit: limit) }
            return state.finished ? [] : nil
        }
    }

    /// The first `limit` of `items`, removed from it (all of them without a copy).
    private static func take(_ items: inout [InboundDatagram], limit: Int) -> [InboundDatagram] {
        guard items.count > limit else {
            defer { items = [] }
            return items
        }
        let first = Array(items.prefix(limit))
        items.removeFirst(limit)
        return first
    }

    /// The datagrams one at a time (for tests and tools; the agent takes batches). Each is taken
    /// from the queue only when asked for, so an iteration that stops early leaves the rest queued.
    public var datagrams: Datagrams { Datagrams(queue: self) }

    /// The queue as an `AsyncSequence` of single datagrams.
    public struct Datagrams: AsyncSequence, Sendable {
        let queue: InboundQueue

        public func makeAsyncIterator() -> Iterator { Iterator(queue: queue) }

        /// Takes one datagram per call.
        public struct Iterator: AsyncIteratorProtocol {
            let queue: InboundQueue

            public mutating func next() async -> InboundDatagram? {
                await queue.nextBatch(limit: 1)?.first
            }
        }
    }
}
