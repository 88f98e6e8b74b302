import Foundation

/// A lab command that failed: names the command, its exit status and what it printed on stderr.
public struct LabCommandError: Error, CustomStringConvertible, Sendable {
    /// The argv that was run.
    public var argv: [String]
    /// Its exit status (or the signal number, for `terminatedBySignal`).
    public var status: Int32
    /// Whether the process was killed by a signal.
    public var terminatedBySignal: Bool
    /// What it printed on stderr (trimmed).
    public var stderr: String

    public var description: String {
        let how = terminatedBySignal ? "killed by signal \(status)" : "exit status \(status)"
        let detail = stderr.isEmpty ? "" : ": \(stderr)"
        return "lab command failed (\(how)): \(LabCommandRunner.render(argv))\(detail)"
    }
}

/// A lab step that could not be done for a reason other than a failed command.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The output of a finished command.
public struct LabCommandOutput: Sendable {
    /// The exit status.
    public var status: Int32
    /// Everything printed on stdout.
    public var stdout: String
    /// Everything printed on stderr, trimmed.
    public var stderr: String
    /// True when the command exited 0.
    public var succeeded: Bool { status == 0 }
}

/// Runs `ip`, `nft`, `ifup`, … as subprocesses (never through a shell), checking exit codes.
///
/// Every failure names the failing command. `verbose` echoes each command to stderr first.
public struct LabCommandRunner: Sendable {
    /// Print each command before running it (to stderr). Default false.
    public var verbose: Bool

    public init(verbose: Bool = false) { self.verbose = verbose }

    /// Runs `argv` (argv[0] looked up in PATH) and throws `LabCommandError` on a non-zero exit.
    @discardableResult
    public func run(_ argv: [String], stdin: String? = nil) throws -> String {
        let output = try runAllowingFailure(argv, stdin: stdin)
        guard output.succeeded else {
            throw LabCommandError(argv: argv, status: output.status, terminatedBySignal: false, stderr: output.stderr)
        }
        return output.stdout
    }

    /// Runs `argv` inside network namespace `namespace` (`ip netns exec`), checking the exit code.
    @discardableResult
    public func run(in namespace: String, _ argv: [String], stdin: String? = nil) throws -> String {
        try run(["ip", "netns", "exec", namespace] + argv, stdin: stdin)
    }

    /// Runs `argv` and returns its status and output; throws only when it cannot be started or
    /// is killed by a signal.
    public func runAllowingFailure(_ argv: [String], stdin: String? = nil) throws -> LabCommandOutput {
        if verbose { FileHandle.standardError.write(Data(("+ " + Self.render(argv) + "\n").utf8)) }
        let process = Process()
        process.executableURL = try Self.resolve(argv[0])
        process.arguments = Array(argv.dropFirst())
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        do { try process.run() } catch {
            throw LabError("cannot start \(Self.render(argv)): \(error)")
        }
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // Drain stderr on another thread while stdout is read here: a chatty command cannot block.
        let errBox = DataBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        let stderr = String(decoding: errBox.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationReason == .uncaughtSignal {
            throw LabCommandError(
                argv: argv, status: process.terminationStatus, terminatedBySignal: true, stderr: stderr)
        }
        return LabCommandOutput(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
    }

    /// The absolute path of a program: as given when it contains a slash, else the first match in
    /// PATH (plus /usr/sbin and /sbin, where `ip`, `nft` and `ifup` live).
    public static func resolve(_ program: String) throws -> URL {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        let path =
            (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        throw LabError("`\(program)` not found in PATH — run scripts/install-deps (iproute2, nftables, ifupdown)")
    }

    /// The argv as a shell-like line, for messages.
    public static func render(_ argv: [String]) -> String {
        argv.map { arg in
            arg.isEmpty || arg.contains(where: { " \"'$\\;|&<>(){}*".contains($0) }) ? "'\(arg)'" : arg
        }.joined(separator: " ")
    }
}

/// Bytes handed from a reader thread to the waiting caller (written before a semaphore signal).
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
