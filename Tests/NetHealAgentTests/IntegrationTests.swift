import Foundation
import Glibc
import NIOCore
import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

@testable import NetHealAgent

/// Three real agents on loopback, observed only through their control sockets.
@Suite("Integration: real agents on loopback", .serialized)
struct IntegrationTests {
    @Test("views flow: every member fresh and directly heard in every status; fleet healthy")
    func viewsFlow() async throws {
        let fleet = try IntegrationFleet(size: 3)
        fleet.startAll()
        do {
            let statuses = try await fleet.waitUntil(
                [0, 1, 2], "every peer is fresh, heard directly, and the node healthy"
            ) { s in
                s.members.allSatisfy {
                    $0.isSelf || ($0.fresh && $0.lastDirectMillisAgo != nil && $0.reach == .reachable)
                }
                    && s.decision.state == .healthy
            }
            for s in statuses {
                #expect(s.freshPeers == 2)
                #expect(s.diagnosis == "healthy")
                #expect(s.probes.count == 1 && s.probes[0].ok)
                #expect(s.counters.viewsAccepted > 0)
                #expect(s.counters.rejectedTotal == 0)
                #expect(s.members.allSatisfy { $0.isSelf || $0.configMatches == true })
                #expect(s.matrix.rows.allSatisfy { $0 != nil })
                #expect(s.heals.isEmpty)
            }
            // Incarnations are at least the Unix time in seconds (docs/protocol.md §6.2).
            let unixSeconds = UInt64(Date().timeIntervalSince1970)
            #expect(statuses.allSatisfy { $0.incarnation + 120 >= unixSeconds })
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
        #expect(!FileManager.default.fileExists(atPath: fleet.directory))
    }

    @Test("forged and replayed datagrams over UDP are rejected and counted by reason")
    func forgedAndReplayedRejected() async throws {
        let fleet = try IntegrationFleet(size: 3)
        fleet.startAll()
        do {
            try await fleet.waitUntil([0], "n0 hears both peers") { s in s.freshPeers == 2 }
            let target = try fleet.gossipAddress(0)
            // Forged: a view claiming to be n1's, signed by a key that is not a member's.
            let attacker = try TestFleet(seeds: [TestFleet.seed(for: 99)], clusterID: "it-cluster").signers[0]
            var forgedRoster = fleet.fleet.roster
            forgedRoster.members[1].publicKey = attacker.publicKey
            let forgedView = fleet.fleet.view(of: 1, incarnation: UInt64.max / 2, sequence: 1)
            let forged = try DatagramEncoder(roster: forgedRoster).encode(forgedView, signer: attacker)
            try fleet.sendUDP(forged.bytes, to: target)
            // Replayed: a genuine view of n2 (its real key) older than what n0 has accepted from n2.
            let old = try fleet.fleet.datagram(fleet.fleet.view(of: 2, incarnation: 1, sequence: 1))
            try fleet.sendUDP(old.bytes, to: target)
            try fleet.sendUDP(old.bytes, to: target)
            // Garbage.
            try fleet.sendUDP(Array("not a view".utf8), to: target)

            let after = try await fleet.waitUntil([0], "the rejections are counted") { s in
                s.counters.rejected["bad_signature"] == 1 && s.counters.rejected["replayed"] == 2
                    && s.counters.rejected["bad_magic"] == 1
            }
            #expect(after[0].counters.rejectedTotal == 4)
            // Nothing of them was used: n1's view still has its real incarnation, and the peers stay fresh.
            let n1 = after[0].members[1]
            #expect(n1.viewVersion.map { !$0.hasPrefix("\(UInt64.max / 2).") } == true)
            try await fleet.waitUntil([0], "peers still fresh") { s in s.freshPeers == 2 && s.decision.state == .healthy
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("status --json shows a stopped peer silent and unreachable; the others call it isolated")
    func stoppedPeerShowsUnreachable() async throws {
        let fleet = try IntegrationFleet(size: 3)
        fleet.startAll()
        do {
            try await fleet.waitUntil([0, 1, 2], "all fresh") { s in s.freshPeers == 2 }
            await fleet.stop(2)
            #expect(!FileManager.default.fileExists(atPath: fleet.socketPath(2)))
            let statuses = try await fleet.waitUntil([0, 1], "n2 is unreachable and its view stale") { s in
                let n2 = s.members[2]
                return !n2.fresh && n2.reach == .unreachable && s.freshPeers == 1
            }
            for s in statuses {
                // Through the JSON form `status --json` prints.
                let json = ControlCoding.pretty(s)
                let decoded = try JSONDecoder().decode(AgentStatus.self, from: Data(json.utf8))
                #expect(decoded == s)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                let members = try #require(object["members"] as? [[String: Any]])
                #expect(members[2]["reach"] as? String == "unreachable")
                #expect(members[2]["fresh"] as? Bool == false)
                #expect(decoded.matrix.rows[2] == nil)
                #expect(decoded.matrix.reach(row: s.memberIndex, column: 2) == .unreachable)
                #expect(decoded.matrix.reach(row: s.memberIndex, column: s.memberIndex) == .isSelf)
                #expect(decoded.diagnosis == "n2 isolated")
                // Own probes still succeed, so a silent peer is no reason to heal.
                #expect(decoded.decision.state == .healthy)
                #expect(decoded.decision.evidence.silent == ["n2"])
            }
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("a captured genuine datagram, replayed, is rejected as replayed and changes nothing")
    func capturedReplay() async throws {
        // n3 is a member no agent runs as: its address is the test's tap, so n0..n2 gossip to it.
        let fleet = try IntegrationFleet(size: 4)
        for i in 0..<3 { fleet.start(i) }
        do {
            try await fleet.waitUntil([0], "n0 hears n1 and n2") { s in s.members[1].fresh && s.members[2].fresh }
            var captured: [UInt8] = []
            var origin = -1
            while origin != 1 {  // keep the first datagram whose sender is n1
                captured = try await IntegrationFleet.captureUDP(port: fleet.gossipPorts[3])
                var marks = fleet.fleet.emptyWatermarks
                origin = (try? fleet.fleet.decoder.decode(captured, watermarks: &marks).get())?.sender.origin.int ?? -1
            }
            // Let n0 accept a newer view of n1, then replay the captured one twice.
            var marks = fleet.fleet.emptyWatermarks
            let capturedVersion = try fleet.fleet.decoder.decode(captured, watermarks: &marks).get().sender.version
            let before = try await fleet.waitUntil([0], "n0 holds a newer view of n1 than the captured one") { s in
                guard let text = s.members[1].viewVersion else { return false }
                let parts = text.split(separator: ".").compactMap { UInt64($0) }
                return parts.count == 2 && ViewVersion(incarnation: parts[0], sequence: parts[1]) > capturedVersion
            }[0]
            try fleet.sendUDP(captured, to: fleet.gossipAddress(0))
            try fleet.sendUDP(captured, to: fleet.gossipAddress(0))
            let after = try await fleet.waitUntil([0], "both replays are counted") {
                $0.counters.rejected["replayed"] == 2
            }
            #expect(after[0].counters.rejectedTotal == 2)
            #expect(after[0].counters.indirectSenders == before.counters.indirectSenders)
            #expect(after[0].members[1].fresh && after[0].decision.state == .healthy)
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("the Prometheus endpoint of a running agent serves its counters")
    func metricsEndpoint() async throws {
        let fleet = try IntegrationFleet(size: 2, withMetrics: true)
        fleet.startAll()
        do {
            try await fleet.waitUntil([0], "n0 hears n1") { $0.freshPeers == 1 }
            try fleet.sendUDP(Array("garbage".utf8), to: fleet.gossipAddress(0))
            try await fleet.waitUntil([0], "the garbage is counted") { $0.counters.rejected["bad_magic"] == 1 }
            // Gauges are refreshed on the agent's tick (one per gossip interval): n0 may have heard n1 less
            // than a tick ago, so the scrape is repeated until the fresh-peer gauge has caught up.
            var response = ""
            let deadline = ContinuousClock.now + .seconds(10)
            repeat {
                response = try await IntegrationFleet.httpGet(port: fleet.metricsPorts[0], path: "/metrics")
                if response.contains("netheal_fresh_peers 1") { break }
                try await Task.sleep(for: .milliseconds(100))
            } while ContinuousClock.now < deadline
            #expect(response.hasPrefix("HTTP/1.0 200 OK"))
            #expect(response.contains("netheal_views_rejected_total{reason=\"bad_magic\"} 1"))
            #expect(response.contains("netheal_fresh_peers 1"))
            #expect(
                response.contains(
                    "netheal_probe_results_total{target=\"tcp 127.0.0.1:\(fleet.probePort)\",result=\"ok\"}"))
            let missing = try await IntegrationFleet.httpGet(port: fleet.metricsPorts[0], path: "/")
            #expect(missing.hasPrefix("HTTP/1.0 404"))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    @Test("the control socket is a socket of mode 0660 with the group control_group names")
    func controlSocketPermissions() async throws {
        let fleet = try IntegrationFleet(size: 1, controlGroup: "daemon")
        fleet.start(0)
        do {
            try await fleet.waitUntil([0], "the agent answers") { $0.node == "n0" }
            var info = stat()
            #expect(stat(fleet.socketPath(0), &info) == 0)
            #expect(info.st_mode & 0o7777 == 0o660)
            #expect(info.st_uid == geteuid())
            #expect(info.st_gid == getgrnam("daemon").pointee.gr_gid)
            #expect((info.st_mode & S_IFMT) == S_IFSOCK)
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }
}
