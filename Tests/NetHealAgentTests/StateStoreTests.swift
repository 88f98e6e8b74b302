import Foundation
import Testing

@testable import NetHealAgent

/// A fresh directory under /tmp, removed by `remove()`.
struct StateTestDirectory {
    let path: String

    init(_ tag: String) {
        path = "/tmp/nhh-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

private struct PacingBlob: Codable, Equatable, Sendable {
    var healsInWindow: [Int64]
    var backoffSeconds: Int
}

@Suite("StateStore")
struct StateStoreTests {
    @Test("creates the directory 0700 and writes atomically without leaving temporary files")
    func atomicWrite() throws {
        let dir = StateTestDirectory("atomic")
        defer { dir.remove() }
        let store = try StateStore(directory: dir.path)
        var info = stat()
        #expect(stat(dir.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)

        let file = StateFile<PacingBlob>("pacing.json")
        for round in 0..<20 {
            try store.save(PacingBlob(healsInWindow: [Int64(round)], backoffSeconds: round), to: file)
        }
        #expect(dir.files() == ["pacing.json"])
        guard case .loaded(let blob) = store.load(file) else {
            Issue.record("expected the saved blob")
            return
        }
        #expect(blob == PacingBlob(healsInWindow: [19], backoffSeconds: 19))
        #expect(stat(store.path(of: file), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test("a leftover temporary file from an interrupted write is removed on open")
    func leftoverTemporaryRemoved() throws {
        let dir = StateTestDirectory("leftover")
        defer { dir.remove() }
        _ = try StateStore(directory: dir.path)
        let leftover = dir.path + "/heal-journal.json.tmp-99999-1"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("{\"half".utf8)))
        _ = try StateStore(directory: dir.path)
        #expect(dir.files().isEmpty)
    }

    @Test("a corrupt file is moved aside, reported and not trusted; the conservative value is used")
    func corruptFileSetAside() throws {
        let dir = StateTestDirectory("corrupt")
        defer { dir.remove() }
        let store = try StateStore(directory: dir.path, wallClock: { Date(timeIntervalSince1970: 1_800_000_000) })
        let file = StateFile<PacingBlob>("pacing.json")
        #expect(FileManager.default.createFile(atPath: store.path(of: file), contents: Data("{\"healsInWindow\": [1,".utf8)))
        var reported: StateCorruption?
        let value = store.load(file, ifMissing: { PacingBlob(healsInWindow: [], backoffSeconds: 0) }, ifCorrupt: {
            reported = $0
            return PacingBlob(healsInWindow: [], backoffSeconds: 3600)
        })
        #expect(value.backoffSeconds == 3600)
        let corruption = try #require(reported)
        #expect(corruption.path == store.path(of: file))
        #expect(corruption.movedTo == store.path(of: file) + ".corrupt-20270115T080000Z")
        #expect(corruption.description.contains("not trusted"))
        #expect(dir.files() == ["pacing.json.corrupt-20270115T080000Z"])
        // A second corrupt file in the same second gets its own name.
        #expect(FileManager.default.createFile(atPath: store.path(of: file), contents: Data("garbage".utf8)))
        guard case .corrupt(let second) = store.load(file) else {
            Issue.record("expected corrupt")
            return
        }
        #expect(second.movedTo == store.path(of: file) + ".corrupt-20270115T080000Z-1")
        guard case .missing = store.load(file) else {
            Issue.record("the corrupt file must be gone from its place")
            return
        }
    }

    @Test("the incarnation strictly increases across restarts, also after a corrupt counter")
    func incarnationIncreases() throws {
        let dir = StateTestDirectory("incarnation")
        defer { dir.remove() }
        let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_000) }
        var seen: [UInt64] = []
        for _ in 0..<3 {
            // Each "restart" opens a new store on the same directory.
            let store = try StateStore(directory: dir.path, wallClock: clock)
            seen.append(try store.nextIncarnation())
        }
        #expect(seen == [1000, 1001, 1002])
        #expect(FileManager.default.createFile(atPath: dir.path + "/incarnation.json", contents: Data("{".utf8)))
        let later: @Sendable () -> Date = { Date(timeIntervalSince1970: 5_000) }
        let store = try StateStore(directory: dir.path, wallClock: later)
        #expect(try store.nextIncarnation() == 5000)
        #expect(try store.nextIncarnation() == 5001)
    }

    @Test("refuses a world- or group-writable directory and one owned by another user; tightens 0755")
    func permissions() throws {
        let dir = StateTestDirectory("perm")
        defer { dir.remove() }
        #expect(mkdir(dir.path, 0o700) == 0)
        #expect(chmod(dir.path, 0o777) == 0)
        #expect(throws: StateStoreError.insecurePermissions(path: dir.path, mode: 0o777)) {
            try StateStore(directory: dir.path)
        }
        #expect(chmod(dir.path, 0o770) == 0)
        #expect(throws: StateStoreError.insecurePermissions(path: dir.path, mode: 0o770)) {
            try StateStore(directory: dir.path)
        }
        #expect(chmod(dir.path, 0o755) == 0)
        _ = try StateStore(directory: dir.path)
        var info = stat()
        #expect(stat(dir.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        if geteuid() == 0 {
            #expect(chown(dir.path, 65534, 65534) == 0)
            #expect(throws: StateStoreError.wrongOwner(path: dir.path, owner: 65534, expected: 0)) {
                try StateStore(directory: dir.path)
            }
        }
        #expect(throws: StateStoreError.relativePath("var/lib/netheal")) { try StateStore(directory: "var/lib/netheal") }
        let message = StateStoreError.insecurePermissions(path: "/x", mode: 0o777).description
        #expect(message.contains("chmod 0700 '/x'"))
    }
}

@Suite("HealJournal")
struct StateHealJournalTests {
    private func intent(_ id: String) -> HealIntent {
        HealIntent(
            id: id, interface: "eth0", action: HealActionSpec(), reason: "r",
            target: InterfaceSnapshot(interface: "eth0", adminUp: true, operState: "UP", addresses: [], routes: [], takenAtMillis: 0),
            startedAtMillis: 0, incarnation: 1)
    }

    @Test("keeps the newest entries, finds the unfinished one, survives a save/load round trip")
    func journal() throws {
        var journal = HealJournal()
        for n in 1...40 { journal.append(HealJournalEntry(intent: intent("1-\(n)"))) }
        #expect(journal.entries.count == HealJournal.capacity)
        #expect(journal.entries.first?.intent.id == "1-9")
        #expect(journal.unfinished?.intent.id == "1-40")
        let dir = StateTestDirectory("journal")
        defer { dir.remove() }
        let store = try StateStore(directory: dir.path)
        try store.save(journal, to: .healJournal)
        guard case .loaded(let loaded) = store.load(.healJournal) else {
            Issue.record("journal not loaded")
            return
        }
        #expect(loaded == journal)
        #expect(StateFile<InterfaceSnapshot>.baseline(interface: "eth0.100@x").name == "baseline-eth0_100_x.json")
    }
}
