import Foundation
import Testing

@testable import NetHealAgent

@Suite("CommandRunner")
struct HealCommandRunnerTests {
    @Test("an argv runs without a shell: ';' and '$(...)' are passed literally")
    func noShell() async {
        let result = await CommandRunner().run(["echo", "a;", "touch", "/tmp/nhh-must-not-exist", "$(id)"], timeout: .seconds(5))
        #expect(result.succeeded)
        #expect(result.stdout == "a; touch /tmp/nhh-must-not-exist $(id)\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nhh-must-not-exist"))
    }

    @Test("exit status and stderr are captured")
    func exitStatus() async {
        let result = await CommandRunner().run(["ls", "/nonexistent-nhh-path"], timeout: .seconds(5))
        #expect(result.termination == .exited(2))
        #expect(!result.succeeded)
        #expect(result.stderr.contains("nonexistent-nhh-path"))
        let missing = await CommandRunner().run(["/nonexistent/nhh-tool"], timeout: .seconds(5))
        guard case .spawnFailed(let message) = missing.termination else {
            Issue.record("expected a spawn failure, got \(missing.termination)")
            return
        }
        #expect(message.contains("No such file"))
    }

    @Test("a hanging command is killed at its timeout, with its whole process group")
    func timeoutKillsGroup() async throws {
        let marker = "/tmp/nhh-\(getpid())-grandchild"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // sh is the program here (an argv), not a shell the runner adds: its child sleeps too.
        let script = "sleep 30 & echo $! > \(marker); wait"
        let started = ContinuousClock.now
        let result = await CommandRunner(killGrace: .milliseconds(300)).run(["sh", "-c", script], timeout: .milliseconds(500))
        let elapsed = ContinuousClock.now - started
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGTERM) || result.termination == .signaled(SIGKILL))
        // Killed, not waited out. The runner's own clock is what counts: the time around the
        // `await` also includes waiting for a cooperative thread, which other (blocking) tests
        // running in parallel can hold for a long time.
        #expect(result.duration < .seconds(5), "runner duration \(result.duration), wall \(elapsed)")
        let grandchild = try #require(Int32(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(100))
        #expect(!healTestProcessIsAlive(grandchild), "the grandchild sleep must be gone with the process group")
    }

    @Test("output beyond the limit is dropped and counted")
    func boundedOutput() async {
        let result = await CommandRunner(outputLimitBytes: 100).run(["seq", "1", "10000"], timeout: .seconds(5))
        #expect(result.succeeded)
        #expect(result.stdout.utf8.count == 100)
        #expect(result.outputTruncatedBytes > 40_000)
    }

    @Test("the prefix is prepended to every argv")
    func prefix() async {
        let result = await CommandRunner(prefix: ["env", "NHH_X=1"]).run(["printenv", "NHH_X"], timeout: .seconds(5))
        #expect(result.argv == ["env", "NHH_X=1", "printenv", "NHH_X"])
        #expect(result.stdout == "1\n")
    }
}

/// True when `pid` exists and is not a zombie (a killed orphan may wait for its reaper a while).
func healTestProcessIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

@Suite("CommandRunner descriptors")
struct HealCommandRunnerDescriptorTests {
    @Test("descriptors of the agent (even without O_CLOEXEC) do not leak into commands")
    func noDescriptorLeak() async throws {
        let fd = open("/dev/null", O_RDONLY)
        try #require(fd > 2)
        defer { close(fd) }
        let result = await CommandRunner().run(["ls", "/proc/self/fd"], timeout: .seconds(5))
        #expect(result.succeeded)
        // ls itself opens one directory descriptor (3); the agent's descriptor must be absent.
        let fds = result.stdout.split(separator: "\n").compactMap { Int32($0) }
        #expect(fds.allSatisfy { $0 <= 3 }, "leaked descriptors: \(fds)")
        #expect(!fds.contains(fd) || fd == 3)
    }
}
