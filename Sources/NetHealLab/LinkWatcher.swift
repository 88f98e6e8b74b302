import Foundation

/// One line of `ip monitor link` / `ip -o link show`, reduced to what the lab needs (pure parser).
public struct LinkLine: Hashable, Sendable {
    /// Interface name (without `@peer`).
    public var interface: String
    /// Administratively up (`UP` flag).
    public var adminUp: Bool
    /// Carrier (`LOWER_UP` flag).
    public var lowerUp: Bool
    /// The line announced the link's deletion.
    public var deleted: Bool

    /// Parses `80: n1eth0@if79: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 …` (optionally prefixed by
    /// `Deleted ` or an `-ts` timestamp `[…] `); nil for continuation and other lines.
    public static func parse(_ line: Substring) -> LinkLine? {
        var rest = line
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        var deleted = false
        if rest.hasPrefix("Deleted ") {
            deleted = true
            rest = rest.dropFirst("Deleted ".count)
        }
        guard let firstColon = rest.firstIndex(of: ":"), rest[..<firstColon].allSatisfy(\.isNumber),
            !rest[..<firstColon].isEmpty
        else { return nil }
        let afterIndex = rest[rest.index(after: firstColon)...].drop { $0 == " " }
        guard let nameEnd = afterIndex.firstIndex(of: ":") else { return nil }
        let fullName = afterIndex[..<nameEnd]
        let name = fullName.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
        guard !name.isEmpty,
            let open = afterIndex.firstIndex(of: "<"), let close = afterIndex.firstIndex(of: ">"), open < close
        else { return nil }
        let flags = afterIndex[afterIndex.index(after: open)..<close].split(separator: ",")
        return LinkLine(
            interface: name, adminUp: flags.contains("UP"), lowerUp: flags.contains("LOWER_UP"), deleted: deleted)
    }
}

/// Watches one node's managed interface with `ip -n NS monitor link`, independently of any agent,
/// and records every administrative down and up in the timeline (`link-down` / `link-up`).
public final class LinkWatcher: @unchecked Sendable {
    /// The node watched.
    public let node: LabNode
    private let timeline: LabTimeline
    private let process = Process()
    private let lock = NSLock()
    private var lastAdminUp: Bool?
    private var downSeen = false
    private var cycleHandlers: [@Sendable (LabNode) -> Void] = []
    private var downHandlers: [@Sendable (LabNode) -> Void] = []

    /// Starts `ip -n NS monitor link` and reads the interface's current state first.
    public init(node: LabNode, timeline: LabTimeline, runner: LabCommandRunner) throws {
        self.node = node
        self.timeline = timeline
        process.executableURL = try LabCommandRunner.resolve("ip")
        process.arguments = ["-n", node.namespace, "monitor", "link"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let current = try runner.run(["ip", "-n", node.namespace, "-o", "link", "show", "dev", node.interface])
        if let line = LinkLine.parse(Substring(current)) { lastAdminUp = line.adminUp }
        let handle = pipe.fileHandleForReading
        let thread = Thread { [weak self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    self?.handle(line)
                }
            }
        }
        thread.name = "link-watcher-\(node.name)"
        thread.start()
    }

    /// Calls `handler` every time the interface comes back up after having gone down.
    public func onCycle(_ handler: @escaping @Sendable (LabNode) -> Void) {
        lock.lock()
        cycleHandlers.append(handler)
        lock.unlock()
    }

    /// Calls `handler` (once) the next time the interface goes down, on the watcher's thread,
    /// before the event is recorded: the fastest reaction the lab has (kill-mid-heal uses it).
    public func onNextDown(_ handler: @escaping @Sendable (LabNode) -> Void) {
        lock.lock()
        downHandlers.append(handler)
        lock.unlock()
    }

    /// Whether the interface is administratively up, as last seen.
    public var isUp: Bool? {
        lock.lock()
        defer { lock.unlock() }
        return lastAdminUp
    }

    private func handle(_ text: String) {
        guard let line = LinkLine.parse(Substring(text)), line.interface == node.interface, !line.deleted else {
            return
        }
        let now = Date()
        lock.lock()
        let previous = lastAdminUp
        lastAdminUp = line.adminUp
        var handlers: [@Sendable (LabNode) -> Void] = []
        var immediate: [@Sendable (LabNode) -> Void] = []
        if previous != line.adminUp {
            if !line.adminUp {
                downSeen = true
                immediate = downHandlers
                downHandlers = []
            } else if downSeen {
                downSeen = false
                handlers = cycleHandlers
            }
        }
        lock.unlock()
        guard previous != line.adminUp else { return }
        for handler in immediate { handler(node) }
        timeline.record(
            line.adminUp ? .linkUp : .linkDown, node.name,
            "\(node.interface) \(line.adminUp ? "up" : "down") (ip monitor link)", at: now)
        for handler in handlers { handler(node) }
    }

    /// Stops the monitor process.
    public func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
