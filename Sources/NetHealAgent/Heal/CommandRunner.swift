#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Runs an argv WITHOUT a shell (posix_spawnp), in its own process group, with a timeout.
///
/// stdin is /dev/null; stdout and stderr are captured separately, each bounded to
/// `outputLimitBytes` (the rest is counted and dropped). Signal dispositions and the signal mask
/// are reset to defaults in the child (the agent ignores SIGTERM/SIGHUP for its own handlers, and
/// ignored signals would otherwise be inherited). On timeout the whole process group gets
/// SIGTERM, then SIGKILL after `killGrace`. After a normal exit the group is left alone (ifup may
/// leave a DHCP client running) and output is drained for at most 200 ms.
public struct CommandRunner: Sendable {
    /// Prepended to every argv, e.g. `["ip", "netns", "exec", "lab1"]` in tests. Default empty.
    public var prefix: [String]
    /// Bytes kept of each of stdout and stderr. Default 16 KiB.
    public var outputLimitBytes: Int
    /// Time between SIGTERM and SIGKILL of a timed-out process group. Default 1 s.
    public var killGrace: Duration
    /// PATH for the child when the agent's environment has none or lacks the sbin dirs.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// A runner; see the properties for the defaults.
    public init(prefix: [String] = [], outputLimitBytes: Int = 16 << 10, killGrace: Duration = .seconds(1)) {
        self.prefix = prefix
        self.outputLimitBytes = outputLimitBytes
        self.killGrace = killGrace
    }

    /// Runs `argv` (after `prefix`) on a background thread and returns its result.
    public func run(_ argv: [String], timeout: Duration) async -> CommandResult {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: self.runBlocking(argv, timeout: timeout))
            }
        }
    }

    /// Runs `argv` (after `prefix`), blocking the calling thread until it ends or times out.
    public func runBlocking(_ argv: [String], timeout: Duration) -> CommandResult {
        let fullArgv = prefix + argv
        let started = ContinuousClock.now
        func failed(_ message: String) -> CommandResult {
            CommandResult(
                argv: fullArgv, termination: .spawnFailed(message), timedOut: false, stdout: "", stderr: "",
                outputTruncatedBytes: 0, duration: ContinuousClock.now - started)
        }
        guard let program = fullArgv.first, !program.isEmpty else { return failed("empty argv") }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { return failed("pipe: \(errnoText(errno))") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return failed("pipe: \(errnoText(errno))")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // The agent's sockets, state files and other descriptors must not leak into heal commands
        // (a daemon started by ifup would keep them open for its lifetime).
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(
            &attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environment = Self.childEnvironment()
        var pid: pid_t = 0
        let spawnError = withCStrings(fullArgv) { argvPointers in
            withCStrings(environment) { envPointers in
                posix_spawnp(&pid, program, &actions, &attr, argvPointers, envPointers)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard spawnError == 0 else {
            close(outPipe[0]); close(errPipe[0])
            return failed("cannot start '\(program)': \(errnoText(spawnError))")
        }

        var collector = OutputCollector(fds: [outPipe[0], errPipe[0]], limit: outputLimitBytes)
        defer { collector.closeAll() }
        let deadline = started + timeout
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var statusLost = false
        while !exited {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { exited = true; break }
            if waited < 0 && errno == ECHILD {
                // Someone else reaped it (a process-wide SIGCHLD handler): it has ended.
                statusLost = true
                exited = true
                break
            }
            let now = ContinuousClock.now
            if now >= deadline { timedOut = true; break }
            let remainingMs = (deadline - now).components.seconds * 1000 + (deadline - now).components.attoseconds / 1_000_000_000_000_000
            collector.pump(timeoutMs: Int32(min(50, max(1, remainingMs))))
        }
        if timedOut {
            kill(-pid, SIGTERM)
            let killDeadline = ContinuousClock.now + killGrace
            while !exited {
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                if ContinuousClock.now >= killDeadline { break }
                collector.pump(timeoutMs: 20)
            }
            kill(-pid, SIGKILL)
            // A process stuck in the kernel (a wedged NIC driver) survives SIGKILL for a while:
            // wait a bounded time, then leave the reaping to a background thread.
            let reapDeadline = ContinuousClock.now + .seconds(5)
            while !exited && ContinuousClock.now < reapDeadline {
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                collector.pump(timeoutMs: 20)
            }
            if !exited {
                let stuck = pid
                Thread.detachNewThread {
                    var ignored: Int32 = 0
                    while waitpid(stuck, &ignored, 0) < 0 && errno == EINTR {}
                }
                return CommandResult(
                    argv: fullArgv, termination: .abandoned, timedOut: true, stdout: collector.text(0),
                    stderr: collector.text(1), outputTruncatedBytes: collector.dropped,
                    duration: ContinuousClock.now - started)
            }
        }
        // Drain what is left; do not wait for grandchildren that keep the pipes open.
        let drainDeadline = ContinuousClock.now + .milliseconds(200)
        while collector.open && ContinuousClock.now < drainDeadline { collector.pump(timeoutMs: 20) }

        let termination: CommandResult.Termination
        if statusLost {
            termination = .statusUnavailable
        } else if status & 0x7f == 0 {
            termination = .exited((status >> 8) & 0xff)
        } else {
            termination = .signaled(status & 0x7f)
        }
        return CommandResult(
            argv: fullArgv, termination: termination, timedOut: timedOut,
            stdout: collector.text(0), stderr: collector.text(1),
            outputTruncatedBytes: collector.dropped, duration: ContinuousClock.now - started)
    }

    private static func childEnvironment() -> [String] {
        var environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? ""
        if !path.split(separator: ":").contains("/usr/sbin") {
            environment["PATH"] = path.isEmpty ? defaultPath : path + ":" + defaultPath
        }
        return environment.keys.sorted().map { "\($0)=\(environment[$0]!)" }
    }
}

/// The result of one command run.
public struct CommandResult: Codable, Equatable, Sendable {
    /// How a command ended.
    public enum Termination: Codable, Equatable, Sendable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// It was ended by this signal.
        case signaled(Int32)
        /// It could not be started.
        case spawnFailed(String)
        /// It timed out and was still not gone 5 s after SIGKILL (stuck in the kernel); it is reaped
        /// in the background whenever it ends.
        case abandoned
        /// It ended but its status was collected by someone else (`ECHILD`).
        case statusUnavailable

        public var description: String {
            switch self {
            case .exited(let code): return "exit \(code)"
            case .signaled(let signal): return "signal \(signal)"
            case .spawnFailed(let message): return "not started: \(message)"
            case .abandoned: return "still running after SIGKILL (abandoned)"
            case .statusUnavailable: return "ended, exit status unavailable"
            }
        }
    }

    /// The argv as run (including any prefix).
    public var argv: [String]
    /// How it ended.
    public var termination: Termination
    /// True when it was killed because it ran past its timeout.
    public var timedOut: Bool
    /// Captured stdout (bounded, invalid UTF-8 repaired).
    public var stdout: String
    /// Captured stderr (bounded, invalid UTF-8 repaired).
    public var stderr: String
    /// Output bytes dropped beyond the limit.
    public var outputTruncatedBytes: Int
    /// Wall time from spawn to end.
    public var duration: Duration

    /// True when it exited with status 0 in time.
    public var succeeded: Bool { termination == .exited(0) && !timedOut }
}

/// Reads bounded output from the child's pipes with poll(2).
private struct OutputCollector {
    var fds: [Int32]
    var buffers: [[UInt8]]
    var limit: Int
    var dropped = 0

    init(fds: [Int32], limit: Int) {
        self.fds = fds
        self.buffers = fds.map { _ in [] }
        self.limit = max(0, limit)
    }

    var open: Bool { fds.contains { $0 >= 0 } }

    mutating func pump(timeoutMs: Int32) {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard open else {
            usleep(UInt32(timeoutMs) * 1000)
            return
        }
        let ready = poll(&polls, nfds_t(polls.count), timeoutMs)
        guard ready > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        for index in polls.indices where fds[index] >= 0 && polls[index].revents != 0 {
            let n = chunk.withUnsafeMutableBytes { read(fds[index], $0.baseAddress, $0.count) }
            if n > 0 {
                let room = max(0, limit - buffers[index].count)
                buffers[index].append(contentsOf: chunk[0..<min(n, room)])
                dropped += n - min(n, room)
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                close(fds[index])
                fds[index] = -1
            }
        }
    }

    func text(_ index: Int) -> String { String(decoding: buffers[index], as: UTF8.self) }

    mutating func closeAll() {
        for index in fds.indices where fds[index] >= 0 {
            close(fds[index])
            fds[index] = -1
        }
    }
}

/// glibc ≥ 2.34's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time because the
/// Swift Glibc module does not export it (nil on older C libraries: descriptors then rely on
/// O_CLOEXEC alone).
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return nil
    }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
