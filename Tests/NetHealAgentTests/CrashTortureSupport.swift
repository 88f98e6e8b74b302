#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NetHealCore
import Testing

/// Settings of the crash torture tests, from the environment (see docs/crash-safety.md).
struct CrashTortureConfig: Sendable {
    /// Heal iterations (`NETHEAL_TORTURE_ITERATIONS`). Default 30.
    var healIterations: Int
    /// Kills of the state-writing child (`NETHEAL_TORTURE_STATE_KILLS`). Default 200.
    var stateKills: Int
    /// The seed (`NETHEAL_TORTURE_SEED`, decimal or 0x-hex). Default: drawn at random and printed.
    var seed: UInt64
    /// Only this iteration (`NETHEAL_TORTURE_ONLY`): replays one failing iteration of a seed.
    var only: Int?

    static func fromEnvironment() -> CrashTortureConfig {
        let environment = ProcessInfo.processInfo.environment
        func number(_ name: String) -> UInt64? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
            return UInt64(text)
        }
        var system = SystemRandomNumberGenerator()
        return CrashTortureConfig(
            healIterations: number("NETHEAL_TORTURE_ITERATIONS").map { Int(min($0, 100_000)) } ?? 30,
            stateKills: number("NETHEAL_TORTURE_STATE_KILLS").map { Int(min($0, 1_000_000)) } ?? 200,
            seed: number("NETHEAL_TORTURE_SEED") ?? system.next(),
            only: number("NETHEAL_TORTURE_ONLY").map { Int(min($0, 1_000_000)) })
    }

    /// The per-iteration generators: iteration `i` always gets the same stream for a seed, so
    /// `NETHEAL_TORTURE_ONLY=i` replays it alone.
    func generator(iteration: Int) -> SplitMix64 {
        var root = SplitMix64(seed: seed)
        for _ in 0..<iteration { _ = root.next() }
        return SplitMix64(seed: root.next())
    }

    /// The iterations to run.
    func iterations(_ count: Int) -> [Int] {
        if let only { return [only] }
        return Array(0..<count)
    }

    var seedText: String { "0x" + String(seed, radix: 16) }
}

extension SplitMix64 {
    /// A uniform integer in `0...bound` (bound ≥ 0).
    mutating func upTo(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound + 1)) }
}

/// Blocks the calling thread for `microseconds` (precise, unlike a task sleep on a loaded machine).
func crashTortureSleep(microseconds: Int) {
    guard microseconds > 0 else { return }
    var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// A duration in whole microseconds.
func crashTortureMicros(_ duration: Duration) -> Int {
    Int(duration.components.seconds) * 1_000_000 + Int(duration.components.attoseconds / 1_000_000_000_000)
}

// MARK: The child "agent" process

/// A child process running this same test binary with a filter (only the named child suite runs,
/// enabled by an environment variable that carries its plan), stdout on a pipe the parent reads
/// line by line, stderr in a file kept for diagnostics.
final class CrashTortureChild {
    let process = Process()
    private let pipe = Pipe()
    private var buffer: [UInt8] = []
    /// Every complete stdout line so far.
    private(set) var lines: [String] = []
    private(set) var reachedEOF = false
    let stderrPath: String

    /// Starts the child; `filter` selects the child suite, `variable=plan` enables it.
    init(filter: String, variable: String, plan: String, stderrPath: String) throws {
        self.stderrPath = stderrPath
        // /proc/self/exe unresolved: the very binary that runs, even if a rebuild replaced the file.
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["--testing-library", "swift-testing", "--filter", filter]
        var environment = ProcessInfo.processInfo.environment
        environment[variable] = plan
        process.environment = environment
        guard FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw CrashTortureFailure("cannot create \(stderrPath)")
        }
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The parent's copy of the write end must go, or EOF never comes.
        try? pipe.fileHandleForWriting.close()
    }

    var pid: pid_t { process.processIdentifier }

    /// Reads what arrives within `timeoutMs`; returns false at EOF.
    @discardableResult
    func pump(timeoutMs: Int32) -> Bool {
        guard !reachedEOF else { return false }
        let fd = pipe.fileHandleForReading.fileDescriptor
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMs)
        guard ready > 0 else { return true }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EINTR || errno == EAGAIN }
        if count == 0 {
            reachedEOF = true
            if !buffer.isEmpty { lines.append(String(decoding: buffer, as: UTF8.self)) }
            buffer = []
            return false
        }
        buffer.append(contentsOf: chunk[0..<count])
        while let newline = buffer.firstIndex(of: 10) {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
        return true
    }

    /// Waits for the first line (at or after `from`) matching `predicate`; nil at EOF or timeout.
    ///
    /// It polls without blocking and sleeps between polls: a blocking wait would hold one of the few
    /// threads of Swift's cooperative pool (as many as CPUs: 2 here) for the whole torture, and tests
    /// running at the same time whose agents run in process (`IntegrationFleet`) then starved until
    /// they timed out.
    ///
    /// Everything that arrived is read before the deadline is looked at: a task that resumes late (the
    /// machine busy) still finds a line that came in time.
    func waitForLine(from: Int = 0, timeout: Duration, _ predicate: (String) -> Bool) async -> (index: Int, line: String)? {
        let deadline = ContinuousClock.now + timeout
        var checked = from
        while true {
            // Read what is there (a bounded batch), without blocking.
            var arrived = false
            while !reachedEOF, lines.count - checked < 4096 {
                let before = (lines.count, buffer.count)
                pump(timeoutMs: 0)
                if (lines.count, buffer.count) == before { break }
                arrived = true
            }
            while checked < lines.count {
                if predicate(lines[checked]) { return (checked, lines[checked]) }
                checked += 1
            }
            if reachedEOF || ContinuousClock.now >= deadline { return nil }
            if !arrived { try? await Task.sleep(for: .milliseconds(2)) }
        }
    }

    /// Freezes and kills the child and everything it started (see `CrashTortureKill`), reaps it,
    /// and reads its output to EOF.
    @discardableResult
    func killAll() -> Int {
        let killed = process.isRunning ? CrashTortureKill.killTree(pid) : 0
        process.waitUntilExit()
        let deadline = ContinuousClock.now + .seconds(5)
        while !reachedEOF && ContinuousClock.now < deadline { pump(timeoutMs: 50) }
        return killed
    }

    /// The child's stderr (for failure messages), at most the last 3000 characters.
    func stderrTail() -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

    deinit {
        if process.isRunning { CrashTortureKill.killTree(process.processIdentifier) }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }
}

/// A failure of the torture machinery itself (not of the code under test).
struct CrashTortureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: Killing like systemd

/// What systemd does to a unit's cgroup when the agent is killed (watchdog, OOM, `systemctl kill
/// -s KILL`): every process of the agent — including heal commands in their own process groups
/// — dies at once. Without a cgroup, the test freezes the process tree (SIGSTOP to the child and
/// all its descendants, repeated until no new process appears, so nothing can fork away), then
/// sends SIGKILL to every one of them and to their process groups.
enum CrashTortureKill {
    /// `(pid, ppid, pgrp)` of every process, from /proc.
    static func processTable() -> [(pid: pid_t, ppid: pid_t, pgrp: pid_t)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var table: [(pid: pid_t, ppid: pid_t, pgrp: pid_t)] = []
        for entry in entries {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm)": state ppid pgrp …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count >= 3, let ppid = pid_t(fields[1]), let pgrp = pid_t(fields[2]) else { continue }
            table.append((pid, ppid, pgrp))
        }
        return table
    }

    /// `root` and all its descendants, sorted.
    static func tree(_ root: pid_t) -> [pid_t] {
        let table = processTable()
        var members: Set<pid_t> = [root]
        var frontier: [pid_t] = [root]
        while let parent = frontier.popLast() {
            for entry in table where entry.ppid == parent && !members.contains(entry.pid) {
                members.insert(entry.pid)
                frontier.append(entry.pid)
            }
        }
        return members.sorted()
    }

    /// Freezes, then SIGKILLs `root`'s whole tree. Returns the number of processes killed.
    @discardableResult
    static func killTree(_ root: pid_t) -> Int {
        // The agent itself first, at once: the tree scan below takes a few milliseconds.
        kill(root, SIGSTOP)
        var members: [pid_t] = []
        for _ in 0..<200 {
            let current = tree(root)
            for pid in current { kill(pid, SIGSTOP) }
            if current == members { break }
            members = current
            crashTortureSleep(microseconds: 500)
        }
        let groups = Set(processTable().filter { members.contains($0.pid) }.map(\.pgrp))
        for pid in members { kill(pid, SIGKILL) }
        for group in groups.sorted() where group > 1 && group != getpgrp() { kill(-group, SIGKILL) }
        return members.count
    }
}

// MARK: Child output

/// Writes one line to stdout with a single `write(2)`, unbuffered: whatever the child printed
/// before it was killed is in the pipe.
func crashTortureEmit(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += n
    }
}

/// A log handler for the child agent: every message as one `LOG message key=value…` line on
/// stdout (metadata sorted), so the parent can see how far the heal got.
struct CrashTortureLineLog: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)".replacingOccurrences(of: "\n", with: " ") }
        crashTortureEmit((["LOG", "\(event.message)"] + fields).joined(separator: " "))
    }
}

/// A logger that keeps every message (level, text, metadata) for assertions.
final class CrashTortureLogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(level: Logger.Level, text: String)] = []

    var logger: Logger {
        Logger(label: "netheal.test") { _ in CollectingHandler(collector: self) }
    }

    var messages: [(level: Logger.Level, text: String)] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    fileprivate func append(_ level: Logger.Level, _ text: String) {
        lock.lock()
        stored.append((level, text))
        lock.unlock()
    }

    private struct CollectingHandler: LogHandler {
        let collector: CrashTortureLogCollector
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }
            collector.append(event.level, (["\(event.message)"] + fields).joined(separator: " "))
        }
    }
}

/// A logger that drops everything (the parent's start-ups would otherwise flood the test output).
let crashTortureQuietLogger = Logger(label: "netheal.torture") { _ in SwiftLogNoOpLogHandler() }
