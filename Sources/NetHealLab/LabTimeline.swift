import Foundation

/// One timestamped event of a lab run.
public struct LabEvent: Sendable, Hashable {
    /// What kind of event (figures are computed from these, never from agent logs).
    public enum Kind: String, Sendable, Hashable {
        /// Lab set-up, agents started/stopped, phases.
        case lab
        /// A fault injected or lifted.
        case fault
        /// The link watcher saw the managed interface go administratively down.
        case linkDown = "link-down"
        /// The link watcher saw it come back up.
        case linkUp = "link-up"
        /// The lab's own connectivity check from a node.
        case connectivity
        /// An agent's state as `netheal-cluster status --json` reported it.
        case agentState = "agent-state"
        /// An assertion's result.
        case check
    }

    /// Wall-clock time of the event.
    public var time: Date
    /// Event kind.
    public var kind: Kind
    /// The node it concerns, or nil for fleet-wide events.
    public var node: String?
    /// Free text.
    public var text: String
}

/// The run's events, appended from several threads (link watchers, the scenario), printed in order.
public final class LabTimeline: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [LabEvent] = []
    /// Time zero of the printed offsets.
    public private(set) var origin: Date
    /// Echo each event as it happens (to stdout).
    public var echo: Bool

    public init(echo: Bool = false) {
        origin = Date()
        self.echo = echo
    }

    /// Sets time zero to now (printed offsets are relative to it).
    public func resetOrigin() {
        lock.lock()
        origin = Date()
        lock.unlock()
    }

    /// Appends an event (now).
    public func record(_ kind: LabEvent.Kind, _ node: String?, _ text: String, at time: Date = Date()) {
        let event = LabEvent(time: time, kind: kind, node: node, text: text)
        lock.lock()
        storage.append(event)
        let line = echo ? format(event) : nil
        lock.unlock()
        if let line { labSay(line) }
    }

    /// Every event so far, in time order.
    public var events: [LabEvent] {
        lock.lock()
        defer { lock.unlock() }
        return storage.sorted { $0.time < $1.time }
    }

    /// Events of one kind (and node), in time order, at or after `since`.
    public func events(_ kind: LabEvent.Kind, node: String? = nil, since: Date = .distantPast) -> [LabEvent] {
        events.filter { $0.kind == kind && (node == nil || $0.node == node) && $0.time >= since }
    }

    /// One printed line: `  +12.345s  n1    link-down     n1eth0 down`.
    public func format(_ event: LabEvent) -> String {
        let offset = event.time.timeIntervalSince(origin)
        let node = (event.node ?? "lab").padding(toLength: 5, withPad: " ", startingAt: 0)
        let kind = event.kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
        return String(format: "%+9.3fs  ", offset) + node + " " + kind + " " + event.text
    }

    /// The whole timeline as text.
    public func rendered() -> String {
        events.map(format).joined(separator: "\n") + "\n"
    }
}

/// Writes a line to stdout unbuffered (the timeline's live echo and the lab's commands use it, so
/// their lines interleave in order, also through a pipe).
public func labSay(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
