import Foundation
import Glibc
import NIOCore
import NetHealCore
import NetHealTestKit
import NetHealWire
import Testing

@testable import NetHealAgent

/// Floods of garbage and of genuine-but-replayed datagrams toward one running agent (docs/hostile-input.md).
/// `NETHEAL_FLOOD_SECONDS` sets each phase's length (default 5; 60 for the full run); `NETHEAL_FLOOD_RATE`
/// the target rate per phase (default 50,000 datagrams/s). The figures are printed as `FLOOD …` lines.
@Suite("Hostile: floods against a running agent", .serialized)
struct HostileFloodTests {
    static var seconds: Double {
        ProcessInfo.processInfo.environment["NETHEAL_FLOOD_SECONDS"].flatMap(Double.init) ?? 5
    }
    static var rate: Double {
        ProcessInfo.processInfo.environment["NETHEAL_FLOOD_RATE"].flatMap(Double.init) ?? 50_000
    }

    /// Seeded garbage: random bytes of random lengths, some opening with the magic and version so they get
    /// past the first checks, some full-size views with random content.
    static func garbage(_ fleet: IntegrationFleet) -> [[UInt8]] {
        var rng = SplitMix64(seed: 7)
        let viewLength = fleet.fleet.encoder.viewBytes
        return (0..<512).map { i in
            let length: Int
            switch i % 4 {
            case 0: length = Int(rng.next() % 1_400) + 1
            case 1: length = Int(rng.next() % 64) + 1
            default: length = WireFormat.headerBytes + viewLength * (1 + i % 3)
            }
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if i % 4 >= 2 {
                bytes.replaceSubrange(0..<6, with: WireFormat.magic + [WireFormat.version, UInt8(1 + i % 3)])
            }
            return bytes
        }
    }

    /// Genuine datagrams of n1 and n2 (signed by their real keys) from an incarnation older than the running
    /// agents' — exactly what a recording of an earlier run of the fleet holds.
    static func replays(_ fleet: IntegrationFleet) throws -> [[UInt8]] {
        try (0..<512).map { i in
            let origin = 1 + i % 2
            let other = 3 - origin
            let relayed = try fleet.fleet.signed(fleet.fleet.view(of: other, incarnation: 1_000, sequence: UInt64(i)))
            return try fleet.fleet.datagram(
                fleet.fleet.view(of: origin, incarnation: 1_000, sequence: UInt64(i)), relaying: [relayed]
            ).bytes
        }
    }

    /// What the status sampler saw.
    struct Samples {
        var latenciesMillis: [Double] = []
        var failures: [String] = []
        var errors = 0
    }

    /// Calls `status` on `socket` back to back (10 ms apart) until `stop`, timing each call, checking each
    /// answer with `check`.
    static func sample(
        _ socket: String, until stop: ContinuousClock.Instant, check: @escaping @Sendable (AgentStatus) -> String?
    ) async -> Samples {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var samples = Samples()
                let client = ControlClient(path: socket, timeout: .seconds(10))
                while ContinuousClock.now < stop {
                    let start = ContinuousClock.now
                    do {
                        let status = try client.status()
                        samples.latenciesMillis.append((ContinuousClock.now - start).milliseconds)
                        if let problem = check(status) { samples.failures.append(problem) }
                    } catch {
                        samples.errors += 1
                        samples.failures.append("status failed: \(error)")
                    }
                    usleep(10_000)
                }
                continuation.resume(returning: samples)
            }
        }
    }

    /// The decision must stay right: healthy, both peers fresh, no heal, no member's version from the replays.
    static func problem(_ s: AgentStatus) -> String? {
        if s.decision.state != .healthy { return "\(s.node): \(s.decision.state) \(s.decision.rule.id)" }
        if s.freshPeers != 2 { return "\(s.node): \(s.freshPeers) fresh peers — \(s.diagnosis)" }
        if !s.heals.isEmpty { return "\(s.node): heal \(s.heals)" }
        if s.members.contains(where: { $0.viewVersion?.hasPrefix("1000.") == true }) { return "\(s.node): replay used" }
        return nil
    }

    /// Receives notify messages until `stop`; the arrival times of `WATCHDOG=1`.
    static func watchdogBeats(_ listener: SendableListener, until stop: ContinuousClock.Instant) async -> [Double] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var beats: [Double] = []
                let start = ContinuousClock.now
                while ContinuousClock.now < stop {
                    guard let message = listener.listener.receive() else { continue }
                    if message.split(separator: "\n").contains("WATCHDOG=1") {
                        beats.append((ContinuousClock.now - start).seconds)
                    }
                }
                continuation.resume(returning: beats)
            }
        }
    }

    @Test("garbage and replay floods: decisions right, status answers, watchdog fires, memory bounded")
    func floods() async throws {
        let fleet = try IntegrationFleet(size: 3)
        let acceptor = try ProbeAcceptor()  // probes keep succeeding through a 2 × 60 s run
        defer { acceptor.stop() }
        try acceptor.adopt(fleet)
        let listener = try NotifySocketListener(abstract: false)
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"])
        fleet.start(0, notifier: notifier)
        fleet.start(1)
        fleet.start(2)
        do {
            try await fleet.waitUntil([0, 1, 2], "all fresh and healthy") {
                $0.freshPeers == 2 && $0.decision.state == .healthy
            }
            let pools = [("garbage", Self.garbage(fleet)), ("replay", try Self.replays(fleet))]
            for (phase, (name, pool)) in pools.enumerated() {
                let socket = try HostileSocket(source: "127.0.0.\(2 + phase)", target: fleet.gossipAddress(0))
                let before = try await fleet.status(0)
                let rssBefore = residentKiB()
                let stop = ContinuousClock.now + .milliseconds(Int64(Self.seconds * 1000))
                async let sent = flood(socket, pool: pool, rate: Self.rate, seconds: Self.seconds)
                async let target = Self.sample(fleet.socketPath(0), until: stop) { Self.problem($0) }
                async let peers = Self.samplePeers(fleet, until: stop)
                async let beats = Self.watchdogBeats(SendableListener(listener: listener), until: stop)
                let (result, samples, peerProblems, watchdog) = await (sent, target, peers, beats)
                let after = try await fleet.status(0)
                let rssAfter = residentKiB()

                let p50 = quantile(samples.latenciesMillis, 0.5)
                let p99 = quantile(samples.latenciesMillis, 0.99)
                let maxLatency = samples.latenciesMillis.max() ?? 0
                let gaps = zip(watchdog.dropFirst(), watchdog).map { $0 - $1 }
                let rejected = after.counters.rejectedTotal - before.counters.rejectedTotal
                let received = after.counters.datagramsReceived - before.counters.datagramsReceived
                let dropped = after.counters.transportDrops - before.counters.transportDrops
                print(
                    """
                    FLOOD \(name): \(Int(Self.seconds)) s, target \(Int(Self.rate))/s: sent \(result.sent) \
                    (\(Int(result.rate))/s), refused by the local kernel \(result.refused); agent read \(received) \
                    (\(Int(Double(received) / Self.seconds))/s), transport drops \(dropped), decoded and rejected \
                    \(rejected) \(after.counters.rejected); status calls \(samples.latenciesMillis.count): \
                    p50 \(String(format: "%.1f", p50)) ms, p99 \(String(format: "%.1f", p99)) ms, \
                    max \(String(format: "%.1f", maxLatency)) ms; WATCHDOG=1 \(watchdog.count)×, \
                    max gap \(String(format: "%.2f", gaps.max() ?? 0)) s; RSS \(rssBefore) → \(rssAfter) KiB
                    """)
                #expect(samples.failures.isEmpty, "\(name): \(samples.failures.prefix(5))")
                #expect(peerProblems.isEmpty, "\(name): \(peerProblems.prefix(5))")
                #expect(samples.latenciesMillis.count >= Int(Self.seconds) * 5)
                #expect(maxLatency < 1_000, "\(name): a status call took \(maxLatency) ms")
                #expect(watchdog.count >= Int(Self.seconds), "\(name): only \(watchdog.count) WATCHDOG=1")
                #expect((gaps.max() ?? 0) < 2.0, "\(name): the watchdog paused \(gaps.max() ?? 0) s")
                #expect(rssAfter - rssBefore < 64 * 1024, "\(name): RSS grew \(rssAfter - rssBefore) KiB")
                #expect(result.sent > Int(Self.seconds) * 5_000, "\(name): the generator reached only \(result.rate)/s")
                // Most of the flood never reaches the decoder: the source's rate limit drops it first.
                #expect(dropped + rejected > 0)
                #expect(Double(rejected) <= 400 + 200 * Self.seconds * 1.5, "\(name): \(rejected) decoded")
                if name == "replay" {
                    #expect(after.counters.rejected["replayed", default: 0] > before.counters.rejected["replayed", default: 0])
                }
                #expect(after.counters.viewsAccepted > before.counters.viewsAccepted)  // genuine gossip went on
            }
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }

    /// The listener handed to the one thread that reads it.
    struct SendableListener: @unchecked Sendable {
        let listener: NotifySocketListener
    }

    /// The other two agents' statuses every 250 ms; the problems seen.
    static func samplePeers(_ fleet: IntegrationFleet, until stop: ContinuousClock.Instant) async -> [String] {
        var problems: [String] = []
        while ContinuousClock.now < stop {
            for i in 1...2 {
                do {
                    if let p = Self.problem(try await fleet.status(i)) { problems.append(p) }
                } catch {
                    problems.append("n\(i) status failed: \(error)")
                }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return problems
    }
}
