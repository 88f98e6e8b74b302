import NIOPosix
import Testing

@testable import NetHealAgent

#if canImport(Glibc)
import Glibc
#endif

@Suite("systemd notify protocol (real datagram socket)")
struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsTheExactMessagesToNotifySocket(abstract: Bool) throws {
        let listener = try NotifySocketListener(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        #expect(notifier.isEnabled)

        try notifier.ready(status: "listening on 2 gossip addresses")
        #expect(listener.receive() == "READY=1\nSTATUS=listening on 2 gossip addresses")
        try notifier.watchdog()
        #expect(listener.receive() == "WATCHDOG=1")
        try notifier.status("healthy: 4/4 peers fresh\nsecond line")
        #expect(listener.receive() == "STATUS=healthy: 4/4 peers fresh second line")
        try notifier.stopping()
        #expect(listener.receive() == "STOPPING=1")

        let before = Posix.monotonicMicroseconds()
        try notifier.reloading(status: "reloading config")
        let reload = try #require(listener.receive())
        let lines = reload.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first == "RELOADING=1")
        #expect(lines.last == "STATUS=reloading config")
        let usec = try #require(
            lines.dropFirst().first.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        #expect(usec >= before && usec <= Posix.monotonicMicroseconds())
        #expect(listener.receiveNow() == nil)
    }

    @Test func withoutNotifySocketEverythingIsANoOp() throws {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"])
        #expect(!notifier.isEnabled)
        try notifier.ready()
        try notifier.watchdog()
        // No socket: the watchdog driver stays inactive even with WATCHDOG_USEC.
        #expect(!SystemdWatchdog(notifier: notifier).isActive)
    }

    @Test func parsesWatchdogUsecAndHonoursWatchdogPid() {
        let mine = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())",
        ])
        #expect(mine.watchdogTimeout == .seconds(30))
        let other = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1",
        ])
        #expect(other.watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "abc"]).watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled == false)
    }

    @Test func aRelativeSocketNameIsRejectedWithAClearError() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"])
        #expect(throws: SyscallError.self) { try notifier.ready() }
    }

    @Test func aMissingSocketIsASendError() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent-netheal-dir/notify"])
        #expect(throws: SyscallError(call: "sendto", errno: SystemErrno(ENOENT))) { try notifier.watchdog() }
    }

    @Test func theWatchdogDriverPingsOnlyAfterBothLoopsBeat() async throws {
        let listener = try NotifySocketListener(abstract: false)
        // 40 ms timeout: pings due every 20 ms.
        let watchdog = SystemdWatchdog(
            notifier: SystemdNotifier(
                environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "40000"]))
        #expect(watchdog.isActive)
        try await Task.sleep(for: .milliseconds(30))
        #expect(watchdog.tick() == .withheld(missing: [.eventLoop, .decisionLoop]))
        watchdog.beat(.decisionLoop)
        #expect(watchdog.tick() == .withheld(missing: [.eventLoop]))
        #expect(listener.receiveNow() == nil)

        // The event-loop beat comes from a task that really runs on a NIO event loop.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let beats = watchdog.scheduleEventLoopBeats(on: loop, every: .milliseconds(5))
        defer { beats.cancel() }
        #expect(await eventually { watchdog.missingBeats == [] })
        #expect(watchdog.tick() == .ping)
        #expect(listener.receive() == "WATCHDOG=1")
        // Right after a ping nothing is due, and the decision loop must beat again.
        #expect(watchdog.tick() == .notDue)
        try await Task.sleep(for: .milliseconds(30))
        #expect(watchdog.tick() == .withheld(missing: [.decisionLoop]))
        #expect(watchdog.currentCounters.pingsSent == 1)
        #expect(watchdog.currentCounters.pingsWithheld == 3)
        #expect(listener.receiveNow() == nil)
    }
}
