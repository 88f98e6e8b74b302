import NetHealCore
import Testing

@testable import NetHealSimulator

/// Runs recorded with the simulator as it was before its speed work (commit 1eb23b2, release build,
/// 2026-11-21): the faster engine (shared parses, watermark slots, views straight into the core, the
/// raw-move heap) must replay each of them event for event — same trace hash, event count, heals,
/// accepted datagrams and signature accounting. A change here means behaviour changed, not speed.
/// Re-recorded once since, on purpose: when the simulator adopted the agent's redundant-relay rule
/// (docs/protocol.md §6.1) the traces with relayed views changed (same events, heals and accepted
/// datagrams; fewer verification requests).
@Suite struct TracePinTests {
    struct Pin: Sendable, CustomStringConvertible {
        var name: String
        var events: Int
        var trace: UInt64
        var heals: Int
        var accepted: Int? = nil
        var verified: Int? = nil
        var memoized: Int? = nil
        var rejected: [String: Int] = [:]
        var description: String { name }
    }

    /// Scenario files of simulations/ (real Ed25519; upstream-outage-50 runs in neighbourhood mode).
    static let files: [Pin] = [
        Pin(name: "upstream-outage-50", events: 90003, trace: 0x9b66_a474_bbb1_dbb8, heals: 0,
            accepted: 72000, verified: 9000, memoized: 67026),
        Pin(name: "replayed-stale", events: 3637, trace: 0x096a_68ad_4564_6f92, heals: 0,
            accepted: 2400, verified: 600, memoized: 1800, rejected: ["replayed": 33]),
        Pin(name: "forged-datagram", events: 3610, trace: 0x4632_78fd_d27b_fe2f, heals: 0,
            accepted: 2400, verified: 602, memoized: 1803, rejected: ["bad_signature": 5]),
        Pin(name: "crash-mid-heal", events: 7146, trace: 0x67a5_b069_6b7b_d2e3, heals: 1,
            accepted: 4697, verified: 1187, memoized: 3513),
        Pin(name: "random-loss-20", events: 46048, trace: 0x6f87_2c0f_3b2b_f18c, heals: 0),
        Pin(name: "two-wedged", events: 9966, trace: 0x5bb6_5469_a66e_1d22, heals: 2),
    ]

    /// Swarm seeds with the fast stand-in signer.
    static let seeds: [Pin] = [
        Pin(name: "2", events: 34338, trace: 0x2df2_ca82_1032_0d3e, heals: 1),
        Pin(name: "8", events: 116_156, trace: 0x02ca_43be_6c1e_2e35, heals: 0),
        Pin(name: "9", events: 3449, trace: 0x67ac_9284_3ed7_4839, heals: 0),
        Pin(name: "16", events: 28126, trace: 0x3e64_da78_a10c_3426, heals: 0),
    ]

    static func check(_ r: SimulationResult, _ pin: Pin) {
        #expect(r.traceHash == pin.trace, "\(pin.name): trace \(String(r.traceHash, radix: 16))")
        #expect(r.events == pin.events, "\(pin.name)")
        #expect(r.heals.count == pin.heals, "\(pin.name)")
        #expect(r.passed, "\(pin.name)")
        if let accepted = pin.accepted { #expect(r.datagramsDelivered == accepted, "\(pin.name)") }
        if let verified = pin.verified { #expect(r.verificationsComputed == verified, "\(pin.name)") }
        if let memoized = pin.memoized { #expect(r.verificationsMemoized == memoized, "\(pin.name)") }
        for (reason, count) in pin.rejected {
            #expect(r.rejected.first { $0.0 == reason }?.1 == count, "\(pin.name): \(reason)")
        }
    }

    @Test(arguments: files) func scenarioFileReplaysAsRecorded(_ pin: Pin) throws {
        let path = repoRoot + "/simulations/" + pin.name + ".scenario"
        let s = try Scenario.parse(try ScenarioFileTests.read(path), file: path)
        Self.check(try SimulationRunner.run(s), pin)
    }

    @Test(arguments: seeds) func swarmSeedReplaysAsRecorded(_ pin: Pin) throws {
        let s = try Swarm.scenario(seed: UInt64(pin.name)!, fast: true)
        Self.check(try SimulationRunner.run(s), pin)
    }
}
