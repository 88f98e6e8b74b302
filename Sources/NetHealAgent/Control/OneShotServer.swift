import NIOCore
import NIOPosix

/// A tiny request/response stream server: each connection sends one request ending with
/// `terminator`, gets one response, and is closed. Requests are bounded in size and time. The NIO
/// side only frames bytes; what a request means is the `respond` closure's business.
struct OneShotServer: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// The listening channel.
    let listener: NIOAsyncChannel<Connection, Never>
    /// The end of a request (`\n`, or `\r\n\r\n` for HTTP).
    let terminator: [UInt8]
    /// Longest request accepted, in bytes. Longer ones get `respond` called with nil.
    let maxRequestBytes: Int
    /// A connection that has not sent a full request within this long is closed.
    let requestTimeout: Duration

    /// Binds a Unix stream socket at `path` (an existing socket file there is removed first).
    static func bindUnix(
        path: String, group: any EventLoopGroup, terminator: [UInt8], maxRequestBytes: Int = 4096,
        requestTimeout: Duration = .seconds(5)
    ) async throws -> OneShotServer {
        let listener = try await ServerBootstrap(group: group)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
            }
        return OneShotServer(
            listener: listener, terminator: terminator, maxRequestBytes: maxRequestBytes, requestTimeout: requestTimeout
        )
    }

    /// Binds a TCP socket at `host:port`.
    static func bindTCP(
        host: String, port: Int, group: any EventLoopGroup, terminator: [UInt8], maxRequestBytes: Int = 8192,
        requestTimeout: Duration = .seconds(5)
    ) async throws -> OneShotServer {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
            }
        return OneShotServer(
            listener: listener, terminator: terminator, maxRequestBytes: maxRequestBytes, requestTimeout: requestTimeout
        )
    }

    /// The bound address (for a TCP port 0, the port the kernel chose).
    var localAddress: SocketAddress? { listener.channel.localAddress }

    /// Serves connections until the task is cancelled; then closes the listener.
    /// `respond` gets the request without its terminator, or nil when it was too long.
    func serve(_ respond: @escaping @Sendable ([UInt8]?) async -> [UInt8]) async {
        let terminator = self.terminator
        let limit = maxRequestBytes
        let timeout = requestTimeout
        try? await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask {
                        try? await connection.executeThenClose { input, output in
                            let request = await Self.readRequest(
                                input, terminator: terminator, limit: limit, timeout: timeout)
                            guard case .some(let bytes) = request else { return }
                            try await output.write(ByteBuffer(bytes: await respond(bytes)))
                        }
                    }
                }
            }
        }
    }

    /// Closes the listener (connections in progress finish).
    func close() async {
        try? await listener.channel.close()
    }

    /// `.some(bytes)` for a complete request, `.some(nil)` for an oversized one, nil when the client
    /// went away or was too slow.
    private static func readRequest(
        _ input: NIOAsyncChannelInboundStream<ByteBuffer>, terminator: [UInt8], limit: Int, timeout: Duration
    ) async -> [UInt8]?? {
        await withTaskGroup(of: [UInt8]??.self) { group in
            group.addTask {
                var buffer: [UInt8] = []
                do {
                    for try await chunk in input {
                        buffer.append(contentsOf: chunk.readableBytesView)
                        if let end = firstRange(of: terminator, in: buffer) { return .some(Array(buffer[..<end])) }
                        if buffer.count > limit { return .some(nil) }
                    }
                } catch {
                    return nil
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
