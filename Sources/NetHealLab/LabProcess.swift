import Foundation

/// A long-running process inside a node namespace (an agent or the naive loop), with the node's
/// own directory bind-mounted over /run (so ifupdown's /run/network state is per node, as on a
/// real machine) and stdout/stderr appended to a log file.
public final class LabProcess: @unchecked Sendable {
    /// The node it runs on.
    public let node: LabNode
    /// What it is, for the timeline (`agent`, `naive loop`).
    public let role: String
    /// The argv run inside the namespace.
    public let argv: [String]
    /// Its log file.
    public let logPath: String
    private let process = Process()

    /// Starts `argv` in the node's namespace: `ip netns exec NS sh -c 'mount --bind RUN /run && exec "$@"'`.
    /// `ip netns exec` and `sh` both exec, so `pid` is the program's own pid. `environment` is added
    /// to (and overrides) this process's environment.
    public init(
        node: LabNode, role: String, runMount: String, argv: [String], logPath: String,
        environment: [String: String] = [:]
    ) throws {
        self.node = node
        self.role = role
        self.argv = argv
        self.logPath = logPath
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw LabError("cannot open log file \(logPath)") }
        log.seekToEndOfFile()
        process.executableURL = try LabCommandRunner.resolve("ip")
        process.arguments =
            ["netns", "exec", node.namespace, "/bin/sh", "-c", "mount --bind \"$0\" /run && exec \"$@\"", runMount]
            + argv
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        do { try process.run() } catch {
            throw LabError("cannot start \(role) on \(node.name): \(LabCommandRunner.render(argv)): \(error)")
        }
        try? log.close()
    }

    /// The process id (of the program itself).
    public var pid: Int32 { process.processIdentifier }

    /// Whether it still runs.
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (e.g. SIGKILL for `kill -9`, SIGTERM for a graceful stop).
    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; waits until it is gone.
    public func stop(grace: Double = 5) {
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Waits until it has exited (after a signal).
    public func waitUntilExit() { process.waitUntilExit() }

    /// How it ended, once it has: "exit 0", "signal 9".
    public var exitDescription: String {
        guard !process.isRunning else { return "running" }
        return process.terminationReason == .uncaughtSignal
            ? "signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
    }

    /// The last `lines` lines of its log.
    public func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Resident memory and CPU time now, from /proc (nil once it has exited).
    public func usage() -> ProcessUsage? { ProcessUsage.read(pid: pid) }
}

/// A process's resident memory and consumed CPU time, from `/proc/PID/status` and `/proc/PID/stat`.
public struct ProcessUsage: Hashable, Sendable {
    /// VmRSS in kB.
    public var rssKB: Int
    /// utime + stime in seconds.
    public var cpuSeconds: Double
    /// When it was read.
    public var at: Date

    /// Reads both files; nil when the process is gone.
    public static func read(pid: Int32) -> ProcessUsage? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        else { return nil }
        return parse(status: status, stat: stat, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Pure parser of the two files' contents.
    public static func parse(status: String, stat: String, ticksPerSecond: Double, at: Date = Date()) -> ProcessUsage? {
        guard let rssLine = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let rss = rssLine.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({
                Int($0)
            }),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]), ticksPerSecond > 0
        else {
            return nil
        }
        return ProcessUsage(rssKB: rss, cpuSeconds: (utime + stime) / ticksPerSecond, at: at)
    }
}
