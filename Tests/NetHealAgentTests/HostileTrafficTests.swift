import Foundation
import Glibc
import NIOCore
import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

@testable import NetHealAgent

/// Adversarial datagrams against running agents (docs/hostile-input.md): real agents on loopback, the
/// attacker on a loopback source address of its own. Every attack is counted by reason, nothing of it
/// is used, and the fleet stays healthy with every peer fresh.
@Suite("Hostile: adversarial traffic against running agents", .serialized)
struct HostileTrafficTests {
    /// Byte offsets inside a view for the 10-byte cluster id "it-cluster" (docs/protocol.md §5).
    enum Offset {
        static let header = WireFormat.headerBytes
        static let sequence = 22
        static let decision = 47
        static let bitmap = 50
    }

    /// A datagram of one view (header + `view`).
    static func single(_ view: [UInt8]) -> [UInt8] { WireFormat.magic + [WireFormat.version, 1] + view }

    /// Member `member`'s view version as `status` shows it.
    static func version(of member: Int, in status: AgentStatus) -> ViewVersion? {
        guard let parts = status.members[member].viewVersion?.split(separator: ".").compactMap({ UInt64($0) }),
            parts.count == 2
        else { return nil }
        return ViewVersion(incarnation: parts[0], sequence: parts[1])
    }

    static func bumpSequence(_ view: inout [UInt8]) {
        for i in Offset.sequence..<(Offset.sequence + 8) { view[i] = 0x7F }
    }

    @Test("a view validly signed by a key outside the cluster is rejected as bad_signature, in any slot")
    func outsiderKey() async throws {
        try await IntegrationFleet.withAcceptor(size: 3) { fleet in
            fleet.startAll()
            try await fleet.waitUntil([0, 1, 2], "all fresh") { $0.freshPeers == 2 }
            let attacker = HostileTestKey.outsider
            // The outsider signs views in every member's name, claiming everyone else unreachable and a
            // far-future version (so only the signature can stop them).
            var roster = fleet.fleet.roster
            for i in 0..<3 { roster.members[i].publicKey = attacker.publicKey }
            let encoder = DatagramEncoder(roster: roster)
            let socket = try HostileSocket(source: "127.0.0.2", target: fleet.gossipAddress(0))
            for origin in 0..<3 {
                let reach = (0..<3).map { $0 == origin ? Reach.isSelf : .unreachable }
                let view = fleet.fleet.view(
                    of: origin, incarnation: UInt64.max / 2, sequence: 1, upstream: .up, decision: .healing, reach: reach)
                #expect(socket.send(try encoder.encode(view, signer: attacker).bytes))
            }
            // A genuine-looking relay: n1's forged view riding behind n2's forged one.
            let forged1 = try encoder.sign(fleet.fleet.view(of: 1, incarnation: UInt64.max / 2, sequence: 2), with: attacker)
            let relay = try encoder.encode(
                fleet.fleet.view(of: 2, incarnation: UInt64.max / 2, sequence: 2), signer: attacker, relaying: [forged1])
            #expect(relay.relayedCount == 1)
            #expect(socket.send(relay.bytes))
            // The three views in other members' names fail their signatures; the one in n0's own name is
            // never news to n0 (its own slot's watermark is its own current version): replayed.
            let after = try await fleet.waitCounted([0], "four rejections counted") {
                $0.counters.rejected["bad_signature"] == 3 && $0.counters.rejected["replayed"] == 1
            }[0]
            #expect(after.counters.rejectedTotal == 4)
            for member in 1...2 {
                #expect(IntegrationFleet.incarnation(of: member, in: after) != UInt64.max / 2)
            }
            try await fleet.waitUntil([0, 1, 2], "healthy, all fresh, no heal") {
                $0.freshPeers == 2 && $0.decision.state == .healthy && $0.heals.isEmpty
            }
        }
    }

    @Test("a member's captured datagrams replayed: while it is down, and after it restarted with a new incarnation")
    func replayAcrossRestart() async throws {
        // n3 is a tap: no agent runs as n3, so the agents gossip to the test at n3's address.
        try await IntegrationFleet.withAcceptor(size: 4) { fleet in
            for i in 0..<3 { fleet.start(i) }
            try await fleet.waitUntil([0], "n0 hears n1 and n2") { $0.members[1].fresh && $0.members[2].fresh }
            let captured = try await fleet.capture(from: 1, tap: 3)
            var marks = fleet.fleet.emptyWatermarks
            let old = try fleet.fleet.decoder.decode(captured, watermarks: &marks).get().sender.version
            // Gossip need not send every round's view to every peer: wait until n0 holds a newer one, so the
            // captured datagram is old news to n0 (an unseen genuine view would rightly be accepted).
            try await fleet.waitUntil([0], "n0 holds a newer view of n1 than the captured one") {
                Self.version(of: 1, in: $0).map { $0 > old } == true
            }
            let socket = try HostileSocket(source: "127.0.0.2", target: fleet.gossipAddress(0))

            // n1 stops; its captured view (not newer than what n0 holds) is replayed while it is down.
            await fleet.stop(1)
            socket.send(captured)
            try await fleet.waitCounted([0], "the replay while n1 is down is rejected") {
                $0.counters.rejected["replayed"] == 1
            }
            // n1 restarts: a new incarnation (stored + 1 or the Unix time, whichever is larger).
            try await Task.sleep(for: .seconds(1))
            fleet.start(1)
            let restarted = try await fleet.waitUntil([0], "n0 holds n1's new incarnation") {
                (IntegrationFleet.incarnation(of: 1, in: $0) ?? 0) > old.incarnation && $0.members[1].fresh
            }[0]
            for _ in 0..<3 { socket.send(captured) }
            let after = try await fleet.waitCounted([0], "the three replays after the restart are rejected") {
                $0.counters.rejected["replayed"] == 4
            }[0]
            #expect(after.counters.rejectedTotal == 4)
            #expect(IntegrationFleet.incarnation(of: 1, in: after) == IntegrationFleet.incarnation(of: 1, in: restarted))
            try await fleet.waitUntil([0, 1, 2], "n0..n2 healthy, n1 and n2 fresh, no heal") {
                s in (0..<3).allSatisfy { $0 == s.memberIndex || s.members[$0].fresh } && s.decision.state == .healthy
                    && s.heals.isEmpty
            }
        }
    }

    @Test("a genuine view with fields altered (reach, decision, sequence) fails its signature; stale ones are replays")
    func alteredGenuineView() async throws {
        try await IntegrationFleet.withAcceptor(size: 4) { fleet in
            for i in 0..<3 { fleet.start(i) }
            try await fleet.waitUntil([0], "n0 hears n1 and n2") { $0.members[1].fresh && $0.members[2].fresh }
            // A datagram of n2 that relays another member's view: take the relayed view's bytes.
            var relayed: [UInt8] = []
            var relayedOrigin = -1
            for _ in 0..<100 where relayed.isEmpty {
                let captured = try await fleet.capture(from: 2, tap: 3)
                var marks = fleet.fleet.emptyWatermarks
                let decoded = try fleet.fleet.decoder.decode(captured, watermarks: &marks).get()
                if let view = decoded.relayed.first(where: { $0.origin.int == 1 }) {
                    relayed = view.bytes
                    relayedOrigin = view.origin.int
                }
            }
            try #require(relayedOrigin == 1, "no datagram of n2 relaying n1's view was captured")
            let socket = try HostileSocket(source: "127.0.0.2", target: fleet.gossipAddress(0))

            // 1. n1 "reports" n0 unreachable and itself healing, with a version far ahead.
            var lie = relayed
            lie[Offset.bitmap] = (lie[Offset.bitmap] & ~0b11) | Reach.unreachable.rawValue  // n0's slot
            lie[Offset.decision] = DecisionState.healing.rawValue
            Self.bumpSequence(&lie)
            socket.send(Self.single(lie))
            // 2. Only the sequence moved forward (a replay made "new").
            var bumped = relayed
            Self.bumpSequence(&bumped)
            socket.send(Self.single(bumped))
            // 3. One signature byte changed.
            var resigned = relayed
            Self.bumpSequence(&resigned)
            resigned[resigned.count - 1] ^= 0x01
            socket.send(Self.single(resigned))
            // 4. The altered view relayed behind a stale genuine sender view: the stale sender is a replay,
            //    so nothing behind it is even verified.
            let sender = try await fleet.capture(from: 2, tap: 3)
            var marks = fleet.fleet.emptyWatermarks
            let senderVersion = try fleet.fleet.decoder.decode(sender, watermarks: &marks).get().sender.version
            try await fleet.waitUntil([0], "n0 holds a newer view of n2 than the captured one") {
                Self.version(of: 2, in: $0).map { $0 > senderVersion } == true
            }
            let senderView = Array(sender[Offset.header..<(Offset.header + relayed.count)])
            socket.send(WireFormat.magic + [WireFormat.version, 2] + senderView + lie)

            let after = try await fleet.waitCounted([0], "every altered view is rejected") {
                $0.counters.rejected["bad_signature"] == 3 && $0.counters.rejected["replayed"] == 1
            }[0]
            #expect(after.counters.rejectedTotal == 4)
            #expect(after.members[1].viewVersion.map { !$0.hasSuffix(".\(0x7F7F_7F7F_7F7F_7F7F as UInt64)") } == true)
            #expect(after.members[1].reachOfMe == .reachable)
            try await fleet.waitUntil([0, 1, 2], "healthy, n0..n2 fresh, no heal") { s in
                (0..<3).allSatisfy { $0 == s.memberIndex || s.members[$0].fresh } && s.decision.state == .healthy && s.heals.isEmpty
            }
        }
    }

    @Test("oversize datagrams are dropped before decoding; undersize and truncated ones are rejected as truncated")
    func sizes() async throws {
        try await IntegrationFleet.withAcceptor(size: 3) { fleet in
            fleet.startAll()
            let before = try await fleet.waitUntil([0], "n0 hears both") { $0.freshPeers == 2 }[0]
            let socket = try HostileSocket(source: "127.0.0.2", target: fleet.gossipAddress(0))
            let genuine = try fleet.fleet.datagram(
                fleet.fleet.view(of: 1, incarnation: UInt64.max / 2, sequence: 1),
                relaying: [
                    // n2's view says something n0 does not hold yet (n0 `unknown`), so that the receiver
                    // cannot skip it as redundant (docs/protocol.md §6.1) and must verify and accept it.
                    try fleet.fleet.signed(
                        fleet.fleet.view(
                            of: 2, incarnation: UInt64.max / 2, sequence: 1, reach: [.unknown, .reachable, .isSelf]))
                ]
            ).bytes
            // Oversize: one byte over the limit, a jumbo frame's worth, near the UDP maximum.
            for size in [WireFormat.maxDatagramBytes + 1, 9_000, 65_000] {
                #expect(socket.send(Array(repeating: 0x4E, count: size)))
            }
            // Undersize: shorter than the 6-byte header, with and without the magic.
            let undersize: [[UInt8]] = [[0x4E], Array(WireFormat.magic), WireFormat.magic + [1]]
            // Truncated: a genuine (validly signed, far-future) datagram cut inside its first and second view.
            let truncated = [200, genuine.count / 2, genuine.count - 1].map { Array(genuine.prefix($0)) }
            // A view count that promises more views than the datagram holds.
            var overcount = genuine
            overcount[5] = 3
            for bytes in undersize + truncated + [overcount] { #expect(socket.send(bytes)) }
            // Trailing bytes after a complete datagram.
            socket.send(genuine + [0])
            let after = try await fleet.waitUntil([0], "all counted") {
                $0.counters.rejected["truncated"] == 7 && $0.counters.rejected["trailing_bytes"] == 1
                    && $0.counters.transportDrops - before.counters.transportDrops == 3
            }[0]
            #expect(after.counters.rejectedTotal == 8)
            #expect(IntegrationFleet.incarnation(of: 1, in: after) != UInt64.max / 2)
            try await fleet.waitUntil([0, 1, 2], "healthy, all fresh, no heal") {
                $0.freshPeers == 2 && $0.decision.state == .healthy && $0.heals.isEmpty
            }
            // The intact datagram is still accepted afterwards: none of the cut copies moved a watermark.
            // (It is signed with n1's real key, as a compromised n1 could; the test ends here.)
            // Its relayed n2 view is either accepted or, if n0 already holds a young view of n2 saying the
            // same, skipped as redundant (docs/protocol.md §6.1) — never skipped as "not newer".
            let redundantBefore = try await fleet.waitUntil([0], "status") { _ in true }[0].counters.relayedRedundant
            socket.send(genuine)
            try await fleet.waitUntil([0], "the intact datagram is accepted") {
                IntegrationFleet.incarnation(of: 1, in: $0) == UInt64.max / 2
                    && (IntegrationFleet.incarnation(of: 2, in: $0) == UInt64.max / 2
                        || $0.counters.relayedRedundant > redundantBefore)
            }
        }
    }
}

/// The key of an attacker outside the cluster (a real Ed25519 key no roster lists).
enum HostileTestKey {
    static let outsider: Ed25519Signer = {
        do {
            return try Ed25519Signer(seed: TestFleet.seed(for: 4242))
        } catch {
            fatalError("libsodium refused a 32-byte seed: \(error)")
        }
    }()
}
