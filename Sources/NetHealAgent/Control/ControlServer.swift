import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The control socket: a Unix stream socket (mode 0660, owned by the agent's user — root — and by
/// `control_group` when set). One JSON `ControlRequest` line in, one JSON `ControlResponse` line out.
struct ControlServer: Sendable {
    let path: String
    private let server: OneShotServer

    /// Creates the socket's directory if missing (0755), binds (replacing a stale socket file) and
    /// sets the mode and group.
    static func start(path: String, group controlGroup: String?, eventLoops: any EventLoopGroup) async throws
        -> ControlServer
    {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, access(directory, F_OK) != 0 {
            guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
                throw AgentStartupError.setup(
                    "cannot create the control socket directory \(directory): \(String(cString: strerror(errno)))")
            }
        }
        var gid: gid_t?
        if let controlGroup {
            guard let entry = getgrnam(controlGroup) else {
                throw AgentStartupError.setup(
                    "control_group `\(controlGroup)` does not exist — create it (groupadd \(controlGroup)) or remove control_group"
                )
            }
            gid = entry.pointee.gr_gid
        }
        let server: OneShotServer
        do {
            server = try await OneShotServer.bindUnix(path: path, group: eventLoops, terminator: [UInt8(ascii: "\n")])
        } catch {
            throw AgentStartupError.setup("cannot bind the control socket \(path): \(error)")
        }
        guard chmod(path, 0o660) == 0 else {
            let reason = String(cString: strerror(errno))
            await server.close()
            throw AgentStartupError.setup("cannot set mode 0660 on the control socket \(path): \(reason)")
        }
        if let gid, chown(path, uid_t.max, gid) != 0 {
            let reason = String(cString: strerror(errno))
            await server.close()
            throw AgentStartupError.setup(
                "cannot give the control socket \(path) to group \(controlGroup ?? ""): \(reason)")
        }
        return ControlServer(path: path, server: server)
    }

    /// Serves requests until cancelled. `handle` runs the request (on the core's owner).
    func serve(_ handle: @escaping @Sendable (ControlRequest) async -> ControlResponse) async {
        await server.serve { bytes in
            let response: ControlResponse
            if let bytes, let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(bytes)) {
                response = await handle(request)
            } else if bytes == nil {
                response = ControlResponse(ok: false, error: "request too long")
            } else {
                let commands = ControlRequest.Command.allCases.map(\.rawValue).joined(separator: ", ")
                response = ControlResponse(
                    ok: false,
                    error: "bad request: send one JSON line like {\"command\":\"status\"} (commands: \(commands))")
            }
            return ControlCoding.line(response)
        }
    }

    /// Closes the socket and removes its file.
    func close() async {
        await server.close()
        unlink(path)
    }
}

/// JSON lines of the control protocol.
public enum ControlCoding {
    /// `value` as one JSON line (sorted keys, so output is stable), newline-terminated.
    public static func line(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{\"ok\":false,\"error\":\"cannot encode the response\"}".utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }

    /// Pretty JSON for humans (`status --json`).
    public static func pretty(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
