import Foundation
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// What the parent test tells the child "agent" process (as JSON in `NHH_HEAL_CHILD`).
private struct ChildPlan: Codable {
    var stateDirectory: String
    var interface: String
    var prefix: [String]
    var command: [String]
}

private let childVariable = "NHH_HEAL_CHILD"

/// The real kill -9 test: a separate process (this test binary, running only `HealKillChild`)
/// starts a heal whose command takes the link down and then hangs; the parent kills that process
/// with SIGKILL (and, as systemd would, the rest of its cgroup: the heal command's process group),
/// then a fresh healer on the same state directory must bring the interface back.
@Suite("Heal: agent killed mid-heal", .serialized, .enabled(if: NamespaceLab.isRoot, Comment(rawValue: NamespaceLab.notRootMessage)))
struct HealKillTests {
    @Test("kill -9 of the agent between link down and up; the restarted agent restores the interface")
    func killedBetweenDownAndUp() async throws {
        NamespaceLab.removeStale()
        let lab = try NamespacePair(tag: "k9", octet: 12)
        defer { lab.destroy() }
        let dir = StateTestDirectory("k9")
        defer { dir.remove() }
        let marker = dir.path + "-script.pid"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The heal command: a slow "NIC reset" script (sh is the argv's program, not a shell the
        // agent adds) that takes the link down, then hangs before bringing it up.
        let script = "echo $$ > \(marker); ip link set dev \(lab.nodeInterface) down; sleep 60; ip link set dev \(lab.nodeInterface) up"
        let plan = ChildPlan(
            stateDirectory: dir.path, interface: lab.nodeInterface, prefix: lab.nodePrefix,
            command: ["sh", "-c", script])

        // Known-good baseline, recorded by a first agent run.
        do {
            let store = try StateStore(directory: dir.path)
            let healer = try InterfaceHealer(
                interface: lab.nodeInterface, action: HealActionSpec(kind: .command, command: plan.command),
                store: store, runner: CommandRunner(prefix: lab.nodePrefix))
            try await healer.recordBaseline()
        }

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "HealKillChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[childVariable] = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        child.environment = environment
        let log = dir.path + "-child.log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        child.standardOutput = logHandle
        child.standardError = logHandle
        try child.run()
        var scriptPid: Int32?
        defer {
            if child.isRunning { kill(child.processIdentifier, SIGKILL) }
            if let scriptPid { kill(-scriptPid, SIGKILL) }
        }

        // Wait until the heal is under way: the script has started and the link is down.
        let deadline = ContinuousClock.now + .seconds(60)
        var linkDown = false
        while ContinuousClock.now < deadline && child.isRunning {
            if scriptPid == nil, let text = try? String(contentsOfFile: marker, encoding: .utf8) {
                scriptPid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if scriptPid != nil {
                let link = NamespaceLab.run(lab.nodePrefix + ["ip", "-json", "link", "show", "dev", lab.nodeInterface]).stdout
                if !link.contains("\"UP\"") {
                    linkDown = true
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let childLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try #require(linkDown, "the child agent never took the link down; its output:\n\(childLog)")

        // kill -9 the agent; then what systemd does to the rest of the cgroup.
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        let scriptGroup = try #require(scriptPid)
        kill(-scriptGroup, SIGKILL)
        scriptPid = nil
        #expect(!lab.nodeReachesRouter(), "the killed heal left the interface down")
        guard case .loaded(let journal) = try StateStore(directory: dir.path).load(.healJournal) else {
            Issue.record("the intent must be on disk")
            return
        }
        let unfinished = try #require(journal.unfinished)
        #expect(unfinished.intent.target.defaultRoutes.contains { $0.gateway == lab.routerAddress })

        // The restarted agent: its start sequence (new store, next incarnation, recovery first).
        let startup = try await HealStartup.run(
            stateDirectory: dir.path, interface: lab.nodeInterface,
            action: HealActionSpec(kind: .command, command: plan.command, verifyTimeout: .seconds(5)),
            runner: CommandRunner(prefix: lab.nodePrefix))
        #expect(startup.incarnation > unfinished.intent.incarnation)
        let report = try #require(startup.recovery)
        #expect(report.outcome == .recovered, "\(report.verification.summary)")
        #expect(report.id == unfinished.intent.id)
        let restarted = startup.healer
        let snapshot = try await restarted.snapshot()
        #expect(snapshot.linkUp)
        #expect(snapshot.addresses.contains { $0.local == lab.nodeAddress })
        #expect(snapshot.defaultRoutes.contains { $0.gateway == lab.routerAddress })
        #expect(lab.nodeReachesRouter())
    }
}

/// The child "agent" of `HealKillTests`: runs only inside the child process the test starts
/// (`NHH_HEAL_CHILD` set); in a normal test run it is disabled.
@Suite("HealKillChild", .enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil, "child process of the kill -9 test only"))
struct HealKillChild {
    @Test("heal until killed")
    func healUntilKilled() async throws {
        let text = try #require(ProcessInfo.processInfo.environment[childVariable])
        let plan = try JSONDecoder().decode(ChildPlan.self, from: Data(text.utf8))
        let store = try StateStore(directory: plan.stateDirectory)
        let incarnation = try store.nextIncarnation()
        let healer = try InterfaceHealer(
            interface: plan.interface,
            action: HealActionSpec(kind: .command, command: plan.command, stepTimeout: .seconds(120)),
            store: store, runner: CommandRunner(prefix: plan.prefix))
        _ = try await healer.heal(reason: "kill -9 test", incarnation: incarnation)
        Issue.record("the parent should have killed this process during the heal")
    }
}
