import NIOCore

/// A minimal HTTP/1.0 responder for Prometheus: `GET /metrics` → the exposition text, anything else
/// → 404. Bound to loopback only (the node file's `metrics_listen`; the config layer refuses others).
struct MetricsServer: Sendable {
    private let server: OneShotServer

    /// The bound address.
    var localAddress: SocketAddress? { server.localAddress }

    static func start(host: String, port: Int, metrics: AgentMetrics, eventLoops: any EventLoopGroup) async throws
        -> MetricsServer
    {
        do {
            let server = try await OneShotServer.bindTCP(
                host: host, port: port, group: eventLoops, terminator: Array("\r\n\r\n".utf8))
            return MetricsServer(server: server, metrics: metrics)
        } catch {
            throw AgentStartupError.setup("cannot bind the metrics endpoint \(host):\(port): \(error)")
        }
    }

    private let metrics: AgentMetrics

    private init(server: OneShotServer, metrics: AgentMetrics) {
        self.server = server
        self.metrics = metrics
    }

    func serve() async {
        let metrics = self.metrics
        await server.serve { request in
            Self.respond(to: request, metrics: metrics)
        }
    }

    func close() async { await server.close() }

    /// The response to one request head (pure but for the metrics read).
    static func respond(to request: [UInt8]?, metrics: AgentMetrics) -> [UInt8] {
        guard let request else { return response(status: "431 Request Header Fields Too Large", body: []) }
        let firstLine =
            request.split(separator: UInt8(ascii: "\r"), maxSplits: 1).first.map { String(decoding: $0, as: UTF8.self) }
            ?? ""
        let parts = firstLine.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" else {
            return response(status: "405 Method Not Allowed", body: Array("use GET /metrics\n".utf8))
        }
        let path = parts[1].split(separator: "?").first.map(String.init) ?? ""
        guard path == "/metrics" else { return response(status: "404 Not Found", body: Array("try /metrics\n".utf8)) }
        let body = metrics.exposition()
        return response(status: "200 OK", body: parts[0] == "HEAD" ? [] : body, length: body.count)
    }

    private static func response(status: String, body: [UInt8], length: Int? = nil) -> [UInt8] {
        let head =
            "HTTP/1.0 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(length ?? body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
