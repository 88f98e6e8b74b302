/// The heal journal (`heal-journal.json`): an intent record written (atomically, fsynced) BEFORE a
/// heal touches the interface, completed with the outcome afterwards. An entry without an outcome
/// at start means the agent died mid-heal; `InterfaceHealer.recoverUnfinishedHeal` completes it.
/// The newest `capacity` entries are kept; they are also the "recent heals" of `status`.
public struct HealJournal: Codable, Equatable, Sendable {
    /// Entries, oldest first.
    public var entries: [HealJournalEntry]
    /// Entries kept. 32.
    public static let capacity = 32

    public init(entries: [HealJournalEntry] = []) { self.entries = entries }

    /// The newest entry that has an intent but no outcome.
    public var unfinished: HealJournalEntry? { entries.last { $0.outcome == nil } }

    /// Appends an entry, dropping the oldest beyond the capacity.
    public mutating func append(_ entry: HealJournalEntry) {
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }

    /// Sets the outcome of the entry with this id.
    public mutating func complete(id: String, with report: HealReport) {
        if let index = entries.lastIndex(where: { $0.intent.id == id }) { entries[index].outcome = report }
    }
}

/// One heal: its intent and, once finished, its report.
public struct HealJournalEntry: Codable, Equatable, Sendable {
    /// What was about to be done.
    public var intent: HealIntent
    /// How it ended (the heal's report, or the recovery's report if the agent died mid-heal).
    public var outcome: HealReport?

    public init(intent: HealIntent, outcome: HealReport? = nil) {
        self.intent = intent
        self.outcome = outcome
    }
}

/// The record written before a heal acts: enough to bring the interface back after a crash.
public struct HealIntent: Codable, Equatable, Sendable {
    /// `<incarnation>-<n>`.
    public var id: String
    /// The interface.
    public var interface: String
    /// The action about to run.
    public var action: HealActionSpec
    /// Why.
    public var reason: String
    /// The addresses and routes to restore (pre-heal snapshot merged with the known-good baseline).
    public var target: InterfaceSnapshot
    /// Wall clock at the start, milliseconds since the Unix epoch.
    public var startedAtMillis: Int64
    /// The agent incarnation that started the heal.
    public var incarnation: UInt64

    public init(
        id: String, interface: String, action: HealActionSpec, reason: String, target: InterfaceSnapshot,
        startedAtMillis: Int64, incarnation: UInt64
    ) {
        self.id = id
        self.interface = interface
        self.action = action
        self.reason = reason
        self.target = target
        self.startedAtMillis = startedAtMillis
        self.incarnation = incarnation
    }
}

extension StateFile where Value == HealJournal {
    /// `heal-journal.json`.
    public static var healJournal: StateFile<HealJournal> { StateFile("heal-journal.json") }
}

extension StateFile where Value == InterfaceSnapshot {
    /// `baseline-IF.json`: the interface's last known-good snapshot (characters other than letters,
    /// digits, `_`, `-` in the name become `_`).
    public static func baseline(interface: String) -> StateFile<InterfaceSnapshot> {
        let safe = String(interface.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) ? $0 : "_" })
        return StateFile("baseline-\(safe).json")
    }
}
