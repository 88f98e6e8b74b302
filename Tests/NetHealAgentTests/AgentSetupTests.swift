import Foundation
import NIOCore
import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// The start sequence's checks and the agent's small pure helpers.
@Suite("Agent: setup, key check, pacing persistence, endpoints")
struct AgentSetupTests {
    @Test("a key file readable by group/others is refused, naming the file and the fix")
    func insecureKey() async throws {
        try await IntegrationFleet.with(size: 2) { fleet in
            let key = "\(fleet.directory)/n0.key"
            chmod(key, 0o640)
            let config = try AgentSetup.loadConfiguration(fleet.nodeFile(0))
            do {
                _ = try AgentSetup.loadKey(config)
                Issue.record("an insecure key file was accepted")
            } catch {
                let text = "\(error)"
                #expect(text.contains(key))
                #expect(text.contains("readable by group/others"))
                #expect(text.contains("chmod 600"))
            }
        }
    }

    @Test("a key that is not this member's is refused, naming both keys and both files")
    func keyMismatch() async throws {
        try await IntegrationFleet.with(size: 2) { fleet in
            // n0's node file points at n1's key.
            let text = try String(contentsOfFile: fleet.nodeFile(0), encoding: .utf8)
                .replacingOccurrences(of: "/n0.key", with: "/n1.key")
            try text.write(toFile: fleet.nodeFile(0), atomically: true, encoding: .utf8)
            let config = try AgentSetup.loadConfiguration(fleet.nodeFile(0))
            do {
                _ = try AgentSetup.loadKey(config)
                Issue.record("another member's key was accepted")
            } catch {
                let message = "\(error)"
                #expect(message.contains(PublicKeyText.format(fleet.fleet.signers[1].publicKey)))
                #expect(message.contains(PublicKeyText.format(fleet.fleet.signers[0].publicKey)))
                #expect(message.contains("n1.key") && message.contains("cluster.yaml") && message.contains("`n0`"))
            }
            // The agent refuses to start with it.
            await #expect(throws: AgentStartupError.self) {
                try await NetHealAgentService(options: AgentOptions(nodeFile: fleet.nodeFile(0), reloadOnSIGHUP: false))
                    .run()
            }
            #expect(!FileManager.default.fileExists(atPath: fleet.socketPath(0)))
        }
    }

    @Test("an invalid node file: every problem is reported and nothing starts")
    func badConfiguration() async throws {
        try await IntegrationFleet.with(size: 2) { fleet in
            try "member: n0\ncluster_file: cluster.yaml\ninterface: lo\nprobe_targets: [bogus]\n"
                .write(toFile: fleet.nodeFile(0), atomically: true, encoding: .utf8)
            do {
                try await NetHealAgentService(options: AgentOptions(nodeFile: fleet.nodeFile(0), reloadOnSIGHUP: false))
                    .run()
                Issue.record("started with a broken node file")
            } catch let error as AgentStartupError {
                guard case .configuration(let problems) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(problems.problems.count == 2)  // the bogus probe and the missing heal_action
                #expect("\(error)".contains("probe_targets"))
                #expect("\(error)".contains("heal_action"))
            }
        }
    }

    @Test("config digest: the first 8 bytes of BLAKE2b-256 of the file, big-endian")
    func digest() throws {
        let bytes = Array("cluster_id: x\n".utf8)
        let full = try Sodium.blake2b(bytes[...], length: 32)
        let expected = full.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(try AgentSetup.configDigest(bytes) == expected)
        #expect(try AgentSetup.configDigest(bytes + [0x20]) != expected)
    }

    @Test("pacing rebased onto a new monotonic clock keeps its wall-clock meaning")
    func pacingRestore() {
        var pacing = PacingState()
        pacing.backoffUntil = Instant(nanoseconds: 500_000_000_000)  // 100 s after the save below
        let saved = PersistedPacing(
            pacing: pacing, savedWallMillis: 1_000_000, savedMonotonicNanos: 400_000_000_000, healingEnabled: false)
        // 30 s later (wall), on a clock that restarted near zero.
        let restored = saved.restored(monotonicNow: Instant(nanoseconds: 2_000_000_000), wallNowMillis: 1_030_000)
        #expect(restored.backoffUntil == Instant(nanoseconds: 2_000_000_000 + 70_000_000_000))
        // A wall clock that stepped back never shortens the backoff.
        let stepped = saved.restored(monotonicNow: Instant(nanoseconds: 2_000_000_000), wallNowMillis: 900_000)
        #expect(stepped.backoffUntil == Instant(nanoseconds: 2_000_000_000 + 100_000_000_000))
    }

    @Test("a corrupt pacing file gives a full backoff")
    func conservativePacing() {
        var settings = HealSettings()
        settings.backoffMax = .seconds(600)
        let now = Instant(nanoseconds: 5_000_000_000)
        #expect(PersistedPacing.conservative(settings: settings, now: now).backoffUntil == now + .seconds(600))
    }

    @Test("direct contact only from a configured address and port")
    func endpoints() throws {
        let configured = try SocketAddress(ipAddress: "198.18.1.11", port: 7474)
        #expect(AgentEngine.sameEndpoint(configured, try SocketAddress(ipAddress: "198.18.1.11", port: 7474)))
        #expect(!AgentEngine.sameEndpoint(configured, try SocketAddress(ipAddress: "198.18.1.11", port: 7475)))
        #expect(!AgentEngine.sameEndpoint(configured, try SocketAddress(ipAddress: "198.18.1.12", port: 7474)))
        #expect(AgentEngine.sameEndpoint(configured, try SocketAddress(ipAddress: "::ffff:198.18.1.11", port: 7474)))
        let v6 = try SocketAddress(ipAddress: "2001:db8::1", port: 7474)
        #expect(AgentEngine.sameEndpoint(v6, try SocketAddress(ipAddress: "2001:db8::1", port: 7474)))
        #expect(!AgentEngine.sameEndpoint(v6, configured))
    }

    @Test("probe targets resolve: tcp and icmp literal addresses; gateway without a route fails with the reason")
    func probeResolution() throws {
        let hostPort = try HostPort.parse("198.18.0.53:53").get()
        let tcp = try ProbePlan.resolve(.tcp(hostPort), interface: "lo").get()
        #expect(tcp.method == .tcpConnect(port: 53) && tcp.address.ipAddress == "198.18.0.53")
        let address = try #require(IPAddress("198.18.0.1"))
        let icmp = try ProbePlan.resolve(.icmp(address), interface: "lo").get()
        #expect(icmp.method == .icmpEcho)
        guard case .failure(let reason) = ProbePlan.resolve(.gateway, interface: "nhmissing0") else {
            Issue.record("a missing interface has a gateway")
            return
        }
        #expect(reason.description == "no default route via nhmissing0")
    }

    @Test("the heal ladder: step k uses the k-th action (the last repeats); every option reaches the heal layer")
    func healLadder() async throws {
        try await IntegrationFleet.with(size: 1) { fleet in
            var config = try AgentSetup.loadConfiguration(fleet.nodeFile(0))
            let primary = NodeSettings.HealAction(
                kind: .networkctl, extraArguments: ["--no-ask-password"], cycle: .downUp, timeout: .seconds(7),
                verifyTimeout: .seconds(3), fallbackRestore: false)
            let second = NodeSettings.HealAction(kind: .command, argv: ["/usr/local/sbin/reset-nic", "{interface}"])
            config.node.healAction = NodeSettings.HealActionLadder(primary: primary, escalation: [second])
            #expect(config.healAction(step: 0) == primary)
            #expect(config.healAction(step: 1) == second)
            #expect(config.healAction(step: 5) == second)
            let spec = HealActionSpec(primary)
            #expect(spec.kind == .networkctl && spec.mode == .downUp && spec.extraArguments == ["--no-ask-password"])
            #expect(spec.stepTimeout == .seconds(7) && spec.verifyTimeout == .seconds(3) && !spec.fallbackRestore)
            #expect(spec.actionCommands(interface: "eth0") == [
                ["networkctl", "down", "eth0", "--no-ask-password"], ["networkctl", "up", "eth0", "--no-ask-password"],
            ])
            let command = HealActionSpec(second)
            #expect(command.actionCommands(interface: "eth0") == [["/usr/local/sbin/reset-nic", "eth0"]])
        }
    }
}
