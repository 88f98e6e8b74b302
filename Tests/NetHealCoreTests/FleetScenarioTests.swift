import NetHealCore
import Testing

/// Whole-fleet scenarios with the in-test driver: the safety and liveness properties of docs/design.md.
@Suite struct FleetScenarioTests {
    @Test(arguments: [2, 5, 50])
    func upstreamOutageNeverHeals(size: Int) {
        var fleet = Fleet(size: size, seed: UInt64(size))
        fleet.run(until: .seconds(30))
        fleet.upstreamOutage(0..<size)
        fleet.run(until: .seconds(330))
        #expect(fleet.heals.isEmpty)
        // Every node held, and said why.
        for i in 0..<size {
            #expect(fleet.nodes[i].state == .hold)
            #expect(fleet.nodes[i].rule == .voucherHold)
        }
        fleet.upstreamRestored(0..<size)
        fleet.run(until: .seconds(340))
        #expect(fleet.nodes.allSatisfy { $0.state == .healthy })
    }

    @Test func rackUplinkLossNeverHeals() {
        // n0...n3 lose upstream (a rack); the rest do not. Rack members still reach each other.
        var fleet = Fleet(size: 10)
        fleet.run(until: .seconds(30))
        fleet.upstreamOutage(0..<4)
        fleet.run(until: .seconds(300))
        #expect(fleet.heals.isEmpty)
    }

    @Test(arguments: [2, 5, 9])
    func aWedgedInterfaceIsCycledWithinTenSeconds(size: Int) throws {
        var fleet = Fleet(size: size)
        fleet.run(until: .seconds(30))
        fleet.wedge(size - 1)
        fleet.run(until: .seconds(120))
        let heals = fleet.heals
        #expect(heals.map(\.node) == [size - 1])
        let heal = try #require(heals.first)
        // docs/design.md L1: isolation window 6 s + a tick + the intent dwell = 8 s (≤ 10 s promised).
        #expect(heal.at - .seconds(30) <= .milliseconds(8_100))
        #expect(heal.order.rule == .isolationHeal)
        #expect(fleet.nodes[size - 1].pacing.history.last?.result == .succeeded)
        #expect(fleet.nodes.allSatisfy { $0.state == .healthy })
    }

    @Test func aNodeThatCannotSendIsAccusedAndHeals() throws {
        var fleet = Fleet(size: 5)
        fleet.run(until: .seconds(30))
        fleet.cutTransmit(2)
        fleet.run(until: .seconds(120))
        #expect(fleet.heals.map(\.node) == [2])
        let heal = try #require(fleet.heals.first)
        #expect(heal.order.rule == .accuserQuorumHeal)
        // docs/design.md L2: peerSilenceTimeout 4 s + a gossip round 1 s + a tick + intent 1 s = 7 s.
        #expect(heal.at - .seconds(30) <= .milliseconds(7_100))
    }

    @Test func aNodeThatCannotReceiveIsIsolatedAndHeals() throws {
        var fleet = Fleet(size: 5)
        fleet.run(until: .seconds(30))
        fleet.cutReceive(3)
        fleet.run(until: .seconds(120))
        #expect(fleet.heals.map(\.node) == [3])
        let heal = try #require(fleet.heals.first)
        #expect(heal.order.rule == .isolationHeal)
        #expect(heal.at - .seconds(30) <= .milliseconds(8_100))
    }

    @Test func aOneWayFaultInALargeClusterHealsWithinTheStretchedBound() throws {
        var fleet = Fleet(size: 50)
        fleet.run(until: .seconds(40))
        fleet.cutTransmit(7)
        fleet.run(until: .seconds(140))
        #expect(fleet.heals.map(\.node) == [7])
        let heal = try #require(fleet.heals.first)
        // Effective silence 14 s + up to 2 × 7 − 1 = 13 rounds until every peer's next view arrives,
        // + tick + intent: 29 s (docs/design.md, liveness L2).
        #expect(heal.at - .seconds(40) <= .seconds(29))
    }

    @Test func anUnrepairableWedgeIsPacedNotStormed() {
        var fleet = Fleet(size: 5)
        fleet.repairable[1] = false
        fleet.run(until: .seconds(30))
        fleet.wedge(1)
        fleet.run(until: .seconds(3630))
        let times = fleet.heals(of: 1).map(\.at)
        #expect(times.count == 3)  // the hourly budget
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= .seconds(60)) }
        #expect(fleet.heals.allSatisfy { $0.node == 1 })
    }

    @Test func twoWedgedAtOnceBothHeal() {
        var fleet = Fleet(size: 6)
        fleet.run(until: .seconds(30))
        fleet.wedge(1)
        fleet.wedge(4)
        fleet.run(until: .seconds(120))
        // Isolated nodes cannot see each other's state: the storm guard cannot serialise them.
        #expect(fleet.heals.map(\.node).sorted() == [1, 4])
        #expect(fleet.nodes.allSatisfy { $0.state == .healthy })
    }

    @Test func anUpstreamOutageWhileOneNodeIsWedgedHealsOnlyThatNode() {
        var fleet = Fleet(size: 5)
        fleet.run(until: .seconds(30))
        fleet.upstreamOutage(0..<5)
        fleet.wedge(2)
        fleet.run(until: .seconds(200))
        #expect(fleet.heals.map(\.node) == [2])
    }

    @Test func aOneMemberClusterIsTheIsolationCase() throws {
        var fleet = Fleet(size: 1)
        fleet.run(until: .seconds(30))
        fleet.wedge(0)
        fleet.run(until: .seconds(60))
        let heal = try #require(fleet.heals.first)
        #expect(heal.order.rule == .isolationHeal)
        #expect(heal.at - .seconds(30) <= .seconds(6))
    }

    @Test func dryRunFleetLogsWouldHealsOnly() {
        var settings = HealSettings()
        settings.dryRun = true
        var fleet = Fleet(size: 5, settings: settings)
        fleet.run(until: .seconds(30))
        fleet.wedge(0)
        fleet.run(until: .seconds(100))
        #expect(!fleet.heals.isEmpty)
        #expect(fleet.heals.allSatisfy { $0.dryRun && $0.node == 0 })
        #expect(fleet.nodes[0].state != .healthy)  // nothing was repaired
    }

    @Test func aCrashDuringAHealKeepsTheBudget() throws {
        var fleet = Fleet(size: 5)
        fleet.repairable[2] = false
        fleet.run(until: .seconds(30))
        fleet.wedge(2)
        fleet.run(until: .seconds(45))
        let first = try #require(fleet.heals.first)
        fleet.run(until: first.at + .seconds(1))
        fleet.restart(2)
        fleet.run(until: .seconds(300))
        let times = fleet.heals(of: 2).map(\.at)
        #expect(times.count >= 2)
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= .seconds(60)) }
    }

    @Test func healthyFleetWithSkewedClocksNeverHeals() {
        var fleet = Fleet(size: 8)
        fleet.clockOffsetMillis = [0, 3_600_000, -3_600_000, 5, 0, 86_400_000, 0, -1]
        fleet.run(until: .seconds(120))
        #expect(fleet.heals.isEmpty)
        #expect(fleet.nodes.allSatisfy { $0.state == .healthy })
    }
}
