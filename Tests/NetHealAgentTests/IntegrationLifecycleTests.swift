import Foundation
import Glibc
import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// systemd notify, configuration reload and key rotation on real agents.
@Suite("Integration: systemd notify, reload, key rotation", .serialized)
struct IntegrationLifecycleTests {
    @Test("READY=1 once listening, STATUS= with the state, gated WATCHDOG=1, STOPPING=1 on shutdown")
    func notifyProtocol() async throws {
        let fleet = try IntegrationFleet(size: 2)
        let listener = try NotifySocketListener(abstract: false)
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "\(getpid())"])
        fleet.start(0, notifier: notifier)
        fleet.start(1)
        do {
            let first = try #require(await receive(listener, within: .seconds(120)))
            #expect(first.hasPrefix("READY=1\nSTATUS=starting"))
            // The control socket answers once READY=1 was sent.
            _ = try await fleet.status(0)
            var messages: [String] = []
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                guard let message = await receive(listener, within: deadline - ContinuousClock.now) else { break }
                messages.append(message)
                if messages.contains("WATCHDOG=1") && messages.contains(where: { $0.hasPrefix("STATUS=healthy: ") }) {
                    break
                }
            }
            #expect(messages.contains("WATCHDOG=1"))
            #expect(messages.contains { $0.hasPrefix("STATUS=healthy: ") })
            await fleet.stop(0)
            var rest: [String] = []
            while let message = listener.receiveNow() { rest.append(message) }
            #expect(rest.contains("STOPPING=1\nSTATUS=stopping"))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test(
        "reload: a bad cluster file leaves the old one running and says why; a good one with a new member restarts the core"
    )
    func reload() async throws {
        let fleet = try IntegrationFleet(size: 3)
        let (requests, trigger) = AsyncStream.makeStream(of: Void.self)
        // The cluster file starts with two members; n2 is added by a reload.
        try fleet.clusterText(members: 2).write(toFile: fleet.clusterFile, atomically: true, encoding: .utf8)
        fleet.start(0, reloads: requests)
        fleet.start(1)
        do {
            try await fleet.waitUntil([0], "n0 hears n1") { $0.freshPeers == 1 && $0.members.count == 2 }

            // Broken: an unknown protocol key and a bad duration. Both problems are reported; nothing changes.
            let broken = fleet.clusterText(
                members: 3,
                protocol: IntegrationFleet.fastProtocol + "\n  gossip_intervall: 1s\n  accuser_quorum_minimum: 0")
            try broken.write(toFile: fleet.clusterFile, atomically: true, encoding: .utf8)
            trigger.yield()
            let refused = try await fleet.waitUntil([0], "the reload is refused") { $0.lastReload?.applied == false }
            let problems = refused[0].lastReload!.messages.joined(separator: "\n")
            #expect(problems.contains("gossip_intervall"))
            #expect(problems.contains("accuser_quorum_minimum"))
            #expect(refused[0].members.count == 2)
            try await fleet.waitUntil([0], "n0 keeps running the old configuration") { $0.freshPeers == 1 }

            // Good: n2 joins. n0 restarts its core with three members and hears n2.
            try fleet.clusterText(members: 3).write(toFile: fleet.clusterFile, atomically: true, encoding: .utf8)
            trigger.yield()
            fleet.start(2)
            let applied = try await fleet.waitUntil([0], "n0 runs with three members and hears n2") {
                $0.lastReload?.applied == true && $0.members.count == 3 && $0.members[2].fresh
            }
            #expect(applied[0].lastReload!.messages.contains { $0.hasPrefix("membership changed (2 → 3 members") })
        } catch {
            trigger.finish()
            await fleet.shutdown()
            throw error
        }
        trigger.finish()
        await fleet.shutdown()
    }

    @Test("key rotation: a member running with its next_public_key is accepted; a key in neither slot is refused")
    func keyRotation() async throws {
        let fleet = try IntegrationFleet(size: 2)
        let newSeed = TestFleet.seed(for: 77)
        let newKey = try Ed25519Signer(seed: newSeed).publicKey
        try fleet.clusterText(nextKeys: [1: newKey]).write(toFile: fleet.clusterFile, atomically: true, encoding: .utf8)
        // n1 switches to its new key file.
        let keyFile = "\(fleet.directory)/n1.key"
        try FileManager.default.removeItem(atPath: keyFile)
        try SecretKeyFile.write(seed: newSeed, to: keyFile)
        fleet.startAll()
        do {
            try await fleet.waitUntil([0, 1], "both hear each other") { $0.freshPeers == 1 }
            await fleet.stop(1)
            // Without next_public_key the new key is nobody's: n1 refuses to start.
            try fleet.clusterText().write(toFile: fleet.clusterFile, atomically: true, encoding: .utf8)
            await #expect(throws: AgentStartupError.self) {
                try await NetHealAgentService(options: AgentOptions(nodeFile: fleet.nodeFile(1), reloadOnSIGHUP: false))
                    .run()
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    /// The next notify datagram within `limit`, or nil.
    private func receive(_ listener: NotifySocketListener, within limit: Duration) async -> String? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let message = await receive(listener) { return message }
        }
        return nil
    }

    /// The next notify datagram (2 s receive timeout), read on a thread of its own.
    private func receive(_ listener: NotifySocketListener) async -> String? {
        let fd = listener.fd
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                continuation.resume(returning: count >= 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil)
            }
        }
    }
}
