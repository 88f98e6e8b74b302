import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Talks to an agent's control socket (blocking; for the command line).
public struct ControlClient: Sendable {
    /// The socket path (the node file's `control_socket`).
    public var path: String
    /// How long to wait for the answer. Default 5 s.
    public var timeout: Duration

    public init(path: String, timeout: Duration = .seconds(5)) {
        self.path = path
        self.timeout = timeout
    }

    /// Sends `request` and returns the agent's response.
    public func send(_ request: ControlRequest) throws(ControlClientError) -> ControlResponse {
        let bytes = try exchange(ControlCoding.line(request))
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: Data(bytes))
        } catch {
            throw ControlClientError(path: path, message: "the agent's answer is not a control response: \(error)")
        }
    }

    /// The agent's status, or an error naming the socket and the agent's complaint.
    public func status() throws(ControlClientError) -> AgentStatus {
        let response = try send(ControlRequest(command: .status))
        guard response.ok, let status = response.status else {
            throw ControlClientError(path: path, message: response.error ?? "the agent sent no status")
        }
        return status
    }

    private func exchange(_ request: [UInt8]) throws(ControlClientError) -> [UInt8] {
        func fail(_ what: String) -> ControlClientError {
            let code = errno
            var hint = ""
            if code == ENOENT || code == ECONNREFUSED { hint = " — is the agent running? (systemctl status netheal)" }
            if code == EACCES { hint = " — run as root or as a member of the node file's control_group" }
            return ControlClientError(path: path, message: "\(what): \(String(cString: strerror(code)))\(hint)")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw fail("socket") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlClientError(path: path, message: "socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes + [0]) }
        var tv = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw fail("cannot connect") }
        var offset = 0
        while offset < request.count {
            let written = request[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw fail("cannot send the request") }
            offset += written
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while response.count < 16 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw fail("no answer") }
            if count == 0 { break }
            response.append(contentsOf: chunk[..<count])
            if response.last == UInt8(ascii: "\n") { break }
        }
        guard !response.isEmpty else {
            throw ControlClientError(path: path, message: "the agent closed the connection without answering")
        }
        return response
    }
}

/// Why the control socket could not be used.
public struct ControlClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "control socket \(path): \(message)" }
}
