import Foundation
import NetHealCore
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// `netheal-cluster check` verdicts, the human table, the JSON form and the metrics responder.
@Suite("Control: check, rendering, metrics")
struct ControlCheckTests {
    /// A status built around a real decision record: a 3-member core that has probed and heard both peers.
    static func status(_ adjust: (inout DecisionRecord) -> Void = { _ in }) throws -> AgentStatus {
        let fleet = try TestFleet(size: 3)
        var core = NodeCore(roster: fleet.roster, me: MemberIndex(0), settings: HealSettings(), pacing: nil, seed: 1)
        let t0 = Instant(nanoseconds: 1_000_000_000)
        _ = core.handle(.started, now: t0)
        _ = core.handle(
            .probeRound(ProbeRoundResult(targets: [.init(target: "tcp 198.18.0.1:53", outcome: .answered)])), now: t0)
        for i in 1...2 { _ = core.handle(.viewReceived(fleet.view(of: i), direct: true), now: t0) }
        var record = core.record(now: t0 + .milliseconds(10))
        adjust(&record)
        let members = (0..<3).map { i in
            MemberStatus(
                name: "n\(i)", index: i, isSelf: i == 0, addresses: ["127.0.0.1:\(7000 + i)"],
                reach: i == 0 ? .isSelf : .reachable, lastDirectMillisAgo: i == 0 ? nil : 10,
                viewAgeMillis: i == 0 ? nil : 10, fresh: i != 0, viewVersion: i == 0 ? nil : "1.1",
                upstream: i == 0 ? nil : .up, decision: i == 0 ? nil : .healthy, reachOfMe: i == 0 ? nil : .reachable,
                configMatches: i == 0 ? nil : true)
        }
        return AgentStatus(
            node: "n0", memberIndex: 0, clusterID: "test-cluster", incarnation: 1_700_000_000, interface: "eth0",
            mode: "heal", healingEnabled: true, uptimeMillis: 5000, configDigest: "0123456789abcdef",
            generatedAtMillis: 1_700_000_000_000, decision: record,
            probes: [ProbeStatus(target: "tcp 198.18.0.1:53", outcome: "ok", ok: true, rttMillis: 0.4)],
            members: members,
            matrix: ReachMatrix(
                members: ["n0", "n1", "n2"],
                rows: [
                    [.isSelf, .reachable, .reachable], [.reachable, .isSelf, .reachable],
                    [.reachable, .reachable, .isSelf],
                ]),
            heals: [],
            counters: CounterStatus(
                viewsAccepted: 12, viewsRelayedAccepted: 4, relayedSkipped: 1, indirectSenders: 0,
                rejected: ["replayed": 2], datagramsReceived: 20, transportDrops: 0, datagramsSent: 18, sendErrors: 0,
                healsStarted: 0, wouldHeals: 0),
            diagnosis: "healthy", lastReload: nil)
    }

    @Test("OK for a healthy node, with perfdata")
    func ok() throws {
        let s = try Self.status()
        #expect(s.decision.state == .healthy)
        let verdict = CheckEvaluation.evaluate(s)
        #expect(verdict.code == .ok)
        #expect(
            verdict.line == "NETHEAL OK - n0 healthy (own-probes-ok): 2/2 peers fresh; fleet: healthy | "
                + "fresh_peers=2;;;0;2 heals_window=0;;3;0;3 views_rejected=2c views_accepted=12c transport_drops=0c")
    }

    @Test("WARNING: hold, a silent peer, a recent heal, healing disabled, a diverging cluster file")
    func warnings() throws {
        #expect(
            CheckEvaluation.evaluate(
                try Self.status {
                    $0.state = .hold
                    $0.rule = .voucherHold
                }
            ).code == .warning)
        #expect(
            CheckEvaluation.evaluate(try Self.status { $0.evidence.freshPeers = 1 }).line.contains("1 peer(s) silent"))
        #expect(CheckEvaluation.evaluate(try Self.status { $0.pacing.healsInWindow = 1 }).code == .warning)
        #expect(
            CheckEvaluation.evaluate(
                try Self.status {
                    $0.state = .disabled
                    $0.rule = .disabled
                }
            ).code == .warning)
        var off = try Self.status()
        off.healingEnabled = false
        #expect(CheckEvaluation.evaluate(off).code == .warning)
        #expect(CheckEvaluation.evaluate(off).line.contains("healing disabled (off switch)"))
        var diverging = try Self.status()
        diverging.members[2].configMatches = false
        let verdict = CheckEvaluation.evaluate(diverging)
        #expect(verdict.code == .warning)
        #expect(verdict.line.contains("cluster file differs at n2"))
    }

    @Test("CRITICAL: backoff, spent budget, no fresh peer")
    func critical() throws {
        #expect(
            CheckEvaluation.evaluate(
                try Self.status {
                    $0.state = .backoff
                    $0.rule = .backoffWait
                }
            ).code == .critical)
        #expect(CheckEvaluation.evaluate(try Self.status { $0.pacing.healsInWindow = 3 }).code == .critical)
        let isolated = CheckEvaluation.evaluate(try Self.status { $0.evidence.freshPeers = 0 })
        #expect(isolated.code == .critical)
        #expect(isolated.line.contains("no fresh view from any peer"))
        #expect(isolated.line.contains("fresh_peers=0;;;0;2"))
    }

    @Test("UNKNOWN when the socket cannot be read; one line, no pipe before the perfdata")
    func unknown() {
        let verdict = CheckEvaluation.unknown(reason: "control socket /run/x.sock: cannot connect | odd")
        #expect(verdict.code == .unknown && verdict.code.rawValue == 3)
        #expect(verdict.line == "NETHEAL UNKNOWN - control socket /run/x.sock: cannot connect / odd")
        #expect(!verdict.line.contains("\n"))
    }

    @Test("the human table: plain without colour, ANSI with; matrix symbols")
    func rendering() throws {
        let s = try Self.status()
        let plain = StatusRendering.render(s, color: false)
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("state     healthy  rule own-probes-ok"))
        #expect(plain.contains("fleet     healthy"))
        #expect(plain.contains("n1 ") && plain.contains("rejected 2 [replayed=2]"))
        #expect(plain.contains("\nn0 -  .  .  \n"))
        #expect(plain.contains("\nn0 * ") && plain.contains("self        -        -"))
        let colored = StatusRendering.render(s, color: true)
        #expect(colored.contains("\u{1B}[32mhealthy\u{1B}[0m"))
    }

    @Test("JSON round trip of the status; requests and responses are single lines")
    func json() throws {
        let s = try Self.status()
        let line = ControlCoding.line(ControlResponse(ok: true, status: s))
        #expect(line.last == UInt8(ascii: "\n") && line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") })
        let decoded = try JSONDecoder().decode(ControlResponse.self, from: Data(line))
        #expect(decoded.status == s)
        let request = String(decoding: ControlCoding.line(ControlRequest(command: .status)), as: UTF8.self)
        #expect(request == "{\"command\":\"status\"}\n")
    }

    @Test("metrics endpoint: GET /metrics gives the exposition, other paths 404, other methods 405")
    func metricsResponder() {
        let metrics = AgentMetrics()
        metrics.viewRejected(.badMagic)
        metrics.viewAccepted(direct: true)
        let ok = String(
            decoding: MetricsServer.respond(to: Array("GET /metrics HTTP/1.0\r\nHost: x".utf8), metrics: metrics),
            as: UTF8.self)
        #expect(ok.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(ok.contains("netheal_views_rejected_total{reason=\"bad_magic\"} 1"))
        #expect(ok.contains("netheal_views_rejected_total{reason=\"bad_signature\"} 0"))
        #expect(ok.contains("netheal_views_accepted_total{kind=\"direct\"} 1"))
        let missing = String(
            decoding: MetricsServer.respond(to: Array("GET / HTTP/1.0".utf8), metrics: metrics), as: UTF8.self)
        #expect(missing.hasPrefix("HTTP/1.0 404"))
        let post = String(
            decoding: MetricsServer.respond(to: Array("POST /metrics HTTP/1.0".utf8), metrics: metrics), as: UTF8.self)
        #expect(post.hasPrefix("HTTP/1.0 405"))
        let long = String(decoding: MetricsServer.respond(to: nil, metrics: metrics), as: UTF8.self)
        #expect(long.hasPrefix("HTTP/1.0 431"))
    }
}
