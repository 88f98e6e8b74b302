import Foundation
import Logging
import NetHealCore
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// How a state file is damaged.
enum CrashTortureDamage: String, CaseIterable, Sendable {
    case truncatedJSON = "truncated JSON"
    case randomBytes = "random bytes"
    case empty = "empty file"
    case directory = "a directory in its place"
    case fifo = "a FIFO in its place"
    case symlink = "a symlink in its place"
    case oversize = "larger than the 4 MiB limit"

    /// Replaces the file at `path` (whose valid content is `valid`) with this damage.
    func apply(path: String, valid: Data, rng: inout SplitMix64) throws {
        try? FileManager.default.removeItem(atPath: path)
        switch self {
        case .truncatedJSON:
            try valid.prefix(max(1, valid.count * 2 / 3)).write(to: URL(fileURLWithPath: path))
        case .randomBytes:
            try Data((0..<(64 + rng.upTo(4000))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: URL(fileURLWithPath: path))
        case .empty:
            try Data().write(to: URL(fileURLWithPath: path))
        case .directory:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try valid.write(to: URL(fileURLWithPath: path + "/inside.json"))
        case .fifo:
            guard mkfifo(path, 0o600) == 0 else { throw CrashTortureFailure("mkfifo \(path): errno \(errno)") }
        case .symlink:
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        case .oversize:
            try Data(repeating: 0x20, count: StateStore.maxFileBytes + 1).write(to: URL(fileURLWithPath: path))
        }
    }
}

/// Guards against a start-up that blocks opening a FIFO (a regression of the non-blocking open):
/// after `seconds`, opens every FIFO among `paths` read-write, which releases a blocked reader, so
/// the regression fails the test instead of hanging the test run.
private final class CrashTortureFifoUnblocker: @unchecked Sendable {
    private let state = CrashTortureOnce()
    private let lock = NSLock()
    private var didFire = false

    init(paths: [String], seconds: Int) {
        Thread.detachNewThread { [self] in
            crashTortureSleep(microseconds: seconds * 1_000_000)
            guard state.claim() else { return }
            lock.lock()
            didFire = true
            lock.unlock()
            for path in paths {
                var info = stat()
                if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO {
                    let fd = open(path, O_RDWR | O_NONBLOCK)
                    if fd >= 0 { close(fd) }
                }
            }
        }
    }

    /// Stops the guard; true when it had to release a blocked start-up.
    func finish() -> Bool {
        _ = state.claim()
        lock.lock()
        defer { lock.unlock() }
        return didFire
    }
}

/// A flag that lets exactly one caller through.
private final class CrashTortureOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if taken { return false }
        taken = true
        return true
    }
}

/// Copies a state directory (flat; mode 0700) for one case.
private func copyStateDirectory(_ from: String, to: String) throws {
    try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    for name in try FileManager.default.contentsOfDirectory(atPath: from).sorted() {
        try FileManager.default.copyItem(atPath: from + "/" + name, toPath: to + "/" + name)
    }
}

/// A state file damaged in every way a disk, an operator or a crash can damage it: the start-up
/// (`HealStartup.run`, the agent's first step) reports it, sets it aside as `NAME.corrupt-…`,
/// does not trust it, and starts. Also: start-up errors of the state/heal layer change nothing.
@Suite("Crash torture: corrupt state files and start-up errors", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct CrashTortureCorruptTests {
    init() { NamespaceLab.removeStale() }

    @Test("every damaged state file is reported, set aside and not trusted; the agent starts")
    func corruptFilesNeverStopTheStart() async throws {
        let lab = try NamespacePair(tag: "ccf", octet: 42)
        defer { lab.destroy() }
        let action = HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5))
        let runner = CommandRunner(prefix: lab.nodePrefix)
        let base = StateTestDirectory("ccf")
        defer { base.remove() }
        let template = base.path + "-template"
        defer { try? FileManager.default.removeItem(atPath: template) }

        // A real state directory: baseline, one completed heal, a pacing file, and an incarnation
        // far above the clock (so a trusted counter is told apart from the clock floor).
        let templateStore = try StateStore(directory: template, logger: crashTortureQuietLogger)
        let healer = try InterfaceHealer(interface: lab.nodeInterface, action: action, store: templateStore, runner: runner, logger: crashTortureQuietLogger)
        try await healer.recordBaseline()
        let heal = try await healer.heal(reason: "template", incarnation: 7)
        #expect(heal.outcome == .healed)
        let pacing = CrashTorturePacing.make(generation: 99)
        try templateStore.save(pacing, to: CrashTorturePacing.file)
        let highIncarnation = UInt64(Date().timeIntervalSince1970) + 1_000_000
        try templateStore.save(IncarnationRecord(incarnation: highIncarnation), to: .incarnation)
        let files = ["incarnation.json", "heal-journal.json", StateFile<InterfaceSnapshot>.baseline(interface: lab.nodeInterface).name, "pacing.json"]
        #expect(Set(files).isSubset(of: Set((try? FileManager.default.contentsOfDirectory(atPath: template)) ?? [])))

        var rng = SplitMix64(seed: 0xC0FFEE)
        var cases: [(files: [String], damage: CrashTortureDamage)] = []
        for file in files { for damage in CrashTortureDamage.allCases { cases.append(([file], damage)) } }
        cases.append((files, .randomBytes))
        var started = 0
        for (index, damageCase) in cases.enumerated() {
            let label = "\(damageCase.files.joined(separator: "+")): \(damageCase.damage.rawValue)"
            let dir = base.path + "-case\(index)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try copyStateDirectory(template, to: dir)
            for file in damageCase.files {
                let valid = try Data(contentsOf: URL(fileURLWithPath: template + "/" + file))
                try damageCase.damage.apply(path: dir + "/" + file, valid: valid, rng: &rng)
            }
            let log = CrashTortureLogCollector()
            let clockBefore = UInt64(Date().timeIntervalSince1970)
            let unblocker = CrashTortureFifoUnblocker(paths: damageCase.files.map { dir + "/" + $0 }, seconds: 20)
            let startup: HealStartup
            do {
                startup = try await HealStartup.run(stateDirectory: dir, interface: lab.nodeInterface, action: action, runner: runner, logger: log.logger)
                #expect(!unblocker.finish(), "\(label): the start-up blocked until the test released it")
            } catch {
                _ = unblocker.finish()
                Issue.record("\(label): the agent did not start: \(error)")
                continue
            }
            started += 1
            // The pacing file goes through the same store API; the caller substitutes a conservative value.
            var conservative = false
            let value = startup.store.load(CrashTorturePacing.file, ifMissing: { CrashTorturePacing.make(generation: 0) }, ifCorrupt: { _ in
                conservative = true
                return CrashTorturePacing.make(generation: UInt64.max)
            })
            if damageCase.files.contains("pacing.json") {
                #expect(conservative && value.generation == UInt64.max, "\(label): the damaged pacing file was trusted")
            } else {
                #expect(value == pacing, "\(label)")
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for file in damageCase.files {
                // Reported: one error line naming the file; set aside under NAME.corrupt-….
                let reports = log.messages.filter { $0.level == .error && $0.text.contains("not trusted") && $0.text.contains(dir + "/" + file) }
                #expect(reports.count == 1, "\(label): expected one error report for \(file), got \(log.messages.map(\.text))")
                #expect(names.contains { $0.hasPrefix(file + ".corrupt-") }, "\(label): \(file) not set aside: \(names.sorted())")
                var info = stat()
                if lstat(dir + "/" + file, &info) == 0 {
                    #expect((info.st_mode & S_IFMT) == S_IFREG, "\(label): \(file) is back, but not as a regular file")
                }
            }
            // Not trusted.
            if damageCase.files.contains("incarnation.json") {
                #expect(startup.incarnation >= clockBefore && startup.incarnation < highIncarnation, "\(label): incarnation \(startup.incarnation) came from the damaged counter")
            } else {
                #expect(startup.incarnation == highIncarnation + 1, "\(label): the intact counter must be used")
            }
            if damageCase.files.contains("heal-journal.json") {
                let recovery = try #require(startup.recovery, "\(label): a corrupt journal must trigger an interface check")
                #expect(recovery.reason.contains("corrupt") && recovery.outcome == .recovered, "\(label): \(recovery.summary)")
                #expect(await startup.healer.recentHeals().map(\.intent.id) == ["\(startup.incarnation)-0"], "\(label): entries of the damaged journal were trusted")
            } else {
                #expect(startup.recovery == nil, "\(label): \(String(describing: startup.recovery?.summary))")
                #expect(await startup.healer.recentHeals().map(\.intent.id) == [heal.id], "\(label)")
            }
            let baseline = await startup.healer.knownGoodBaseline
            #expect((baseline == nil) == damageCase.files.contains(files[2]), "\(label): baseline \(baseline == nil ? "dropped" : "kept")")
            #expect(lab.nodeReachesRouter(), "\(label): the interface must still work")
            // The next start is clean: nothing more is reported.
            let second = CrashTortureLogCollector()
            let again = try await HealStartup.run(stateDirectory: dir, interface: lab.nodeInterface, action: action, runner: runner, logger: second.logger)
            #expect(again.recovery == nil && again.incarnation == startup.incarnation + 1, "\(label): second start")
            #expect(!second.messages.contains { $0.level >= .error }, "\(label): \(second.messages.map(\.text))")
        }
        print("crash torture (corrupt files): \(cases.count) damaged state directories, \(started) started")
        #expect(started == cases.count)
    }

    /// A state directory and interface left by a heal that died between link down and up: any
    /// start that proceeded would change both (count the incarnation up, bring the link up).
    private func crashedTemplate(_ lab: NamespacePair, path: String) async throws -> HealActionSpec {
        let action = HealActionSpec(kind: .ipLink, verifyTimeout: .seconds(5))
        let healer = try InterfaceHealer(
            interface: lab.nodeInterface, action: action, store: try StateStore(directory: path, logger: crashTortureQuietLogger),
            runner: CommandRunner(prefix: lab.nodePrefix), logger: crashTortureQuietLogger)
        try await healer.recordBaseline()
        await healer.setCrashPoint(afterActionCommands: 1)
        _ = try? await healer.heal(reason: "crash", incarnation: 1)
        return action
    }

    /// Everything under `path` (names, types, modes, owners, contents), or "absent".
    private func fingerprint(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "absent" }
        var lines = ["\(path) mode \(String(info.st_mode, radix: 8)) uid \(info.st_uid)"]
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                lines.append(fingerprint(path + "/" + name))
            }
        } else if (info.st_mode & S_IFMT) == S_IFREG {
            lines.append((FileManager.default.contents(atPath: path) ?? Data()).base64EncodedString())
        }
        return lines.joined(separator: "\n")
    }

    private func interfaceFingerprint(_ lab: NamespacePair) -> String {
        ["link", "addr", "route"].map { NamespaceLab.run(lab.nodePrefix + ["ip", "-json", $0, "show"]).stdout }.joined(separator: "\n")
    }

    @Test("start-up errors of the state and heal layer: a clear error, and nothing changed on the host")
    func startupErrorsChangeNothing() async throws {
        let lab = try NamespacePair(tag: "cse", octet: 43)
        defer { lab.destroy() }
        let base = StateTestDirectory("cse")
        defer { base.remove() }
        let template = base.path + "-template"
        defer { try? FileManager.default.removeItem(atPath: template) }
        let action = try await crashedTemplate(lab, path: template)
        #expect(!lab.nodeReachesRouter(), "the template leaves the link down")
        let runner = CommandRunner(prefix: lab.nodePrefix)

        struct Case {
            var name: String
            var prepare: (String) throws -> String  // returns the state directory path to pass
            var interface: String?
            var action: HealActionSpec?
            var expect: [String]  // fragments of the error message (problem and fix)
        }
        let cases: [Case] = [
            Case(name: "invalid action (command without argv)", prepare: { dir in try copyStateDirectory(template, to: dir); return dir },
                 action: HealActionSpec(kind: .command), expect: ["command", "non-empty argv"]),
            Case(name: "invalid interface name", prepare: { dir in try copyStateDirectory(template, to: dir); return dir },
                 interface: "eth0 eth1", expect: ["interface", "not an interface name"]),
            Case(name: "invalid step timeout", prepare: { dir in try copyStateDirectory(template, to: dir); return dir },
                 action: HealActionSpec(kind: .ipLink, stepTimeout: .seconds(0)), expect: ["stepTimeout"]),
            Case(name: "state directory writable by others", prepare: { dir in
                try copyStateDirectory(template, to: dir); chmod(dir, 0o777); return dir
            }, expect: ["writable by group or others", "chmod 0700"]),
            Case(name: "state directory owned by another user", prepare: { dir in
                try copyStateDirectory(template, to: dir); chown(dir, 65534, 65534); return dir
            }, expect: ["owned by uid 65534", "chown"]),
            Case(name: "state path is a regular file", prepare: { dir in
                try Data("x".utf8).write(to: URL(fileURLWithPath: dir)); return dir
            }, expect: ["not a directory", "remove it or pick another path"]),
            Case(name: "state path is a symlink to a good directory", prepare: { dir in
                try copyStateDirectory(template, to: dir + "-real")
                try FileManager.default.createSymbolicLink(atPath: dir, withDestinationPath: dir + "-real"); return dir
            }, expect: ["not a directory", "symlinks are refused"]),
            Case(name: "state directory's parent does not exist", prepare: { dir in dir + "/missing/state" },
                 expect: ["mkdir", "No such file or directory"]),
            Case(name: "relative state path", prepare: { _ in "var/lib/netheal" }, expect: ["not an absolute path", "/var/lib/netheal"]),
        ]
        for (index, testCase) in cases.enumerated() {
            let dir = base.path + "-e\(index)"
            defer {
                try? FileManager.default.removeItem(atPath: dir)
                try? FileManager.default.removeItem(atPath: dir + "-real")
            }
            let statePath = try testCase.prepare(dir)
            let before = [fingerprint(dir), fingerprint(dir + "-real"), interfaceFingerprint(lab)]
            do {
                _ = try await HealStartup.run(
                    stateDirectory: statePath, interface: testCase.interface ?? lab.nodeInterface, action: testCase.action ?? action,
                    runner: runner, logger: crashTortureQuietLogger)
                Issue.record("\(testCase.name): the start must fail")
            } catch {
                let message = "\(error)"
                for fragment in testCase.expect {
                    #expect(message.contains(fragment), "\(testCase.name): '\(message)' should say '\(fragment)'")
                }
            }
            let after = [fingerprint(dir), fingerprint(dir + "-real"), interfaceFingerprint(lab)]
            #expect(after[0] == before[0] && after[1] == before[1], "\(testCase.name): the state directory changed")
            #expect(after[2] == before[2], "\(testCase.name): the interface changed")
        }
        #expect(!lab.nodeReachesRouter(), "no failed start touched the interface")
        // The template is recoverable: a correct start would have changed both.
        let good = try await HealStartup.run(stateDirectory: template, interface: lab.nodeInterface, action: action, runner: runner, logger: crashTortureQuietLogger)
        #expect(good.recovery?.outcome == .recovered)
        #expect(lab.nodeReachesRouter())
    }
}
