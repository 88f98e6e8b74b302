import NetHealCore
import Testing

/// Rule 4: the storm guard and its deterministic tie-break.
@Suite struct StormGuardTests {
    /// me = n3 of 7; n0...n2 and n4...n6 accuse unless given another decision state; probes fail.
    func run(states: [Int: DecisionState], settings: HealSettings = HealSettings(), seconds: Int = 20) -> Solo {
        var solo = Solo(size: 7, me: 3, settings: settings)
        solo.probesOK = false
        solo.advance(.seconds(seconds)) { solo in
            for peer in [0, 1, 2, 4, 5, 6] {
                solo.view(from: peer, decision: states[peer] ?? .healthy, reachOfMe: .unreachable)
            }
        }
        return solo
    }

    @Test func aHealingPeerBlocksAHeal() {
        let solo = run(states: [5: .healing])
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.state == .waiting)
        #expect(solo.core.rule == .stormGuardWait)
        #expect(solo.core.evidence(now: solo.now).healingAhead == ["n5"])
    }

    @Test func aDryRunHealingPeerBlocksToo() {
        #expect(run(states: [6: .dryRun]).cycles.isEmpty)
    }

    @Test func aWaitingPeerOfHigherPriorityBlocksOneOfLowerDoesNot() {
        #expect(run(states: [1: .waiting]).cycles.isEmpty)
        #expect(run(states: [5: .waiting]).cycles.count == 1)
    }

    @Test func theLimitGrowsWithSettings() {
        var settings = HealSettings()
        settings.maxConcurrentHeals = 2
        settings.maxConcurrentHealFraction = 0.3  // floor(0.3 × 7) = 2
        #expect(run(states: [5: .healing], settings: settings).cycles.count == 1)
        #expect(run(states: [5: .healing, 6: .healing], settings: settings).cycles.isEmpty)
    }

    @Test func theIntentIsAnnouncedToEveryPeerBeforeTheHeal() throws {
        var settings = HealSettings()
        settings.gossipFanout = 2
        let solo = run(states: [:], settings: settings, seconds: 8)
        let intent = try #require(solo.timeline.firstIndex {
            if case .decisionChanged(let r) = $0.effect { r.rule == .healIntent } else { false }
        })
        let heal = try #require(solo.timeline.firstIndex {
            if case .cycleInterface = $0.effect { true } else { false }
        })
        #expect(solo.timeline[heal].at - solo.timeline[intent].at >= settings.healIntentDwell)
        let announced = solo.timeline[intent...].contains {
            if case .gossip(let content, let to, _) = $0.effect { content.decision == .waiting && to.count == 6 } else { false }
        }
        #expect(announced)
    }

    @Test func leavingTheHealIsAnnouncedToEveryPeer() throws {
        var settings = HealSettings()
        settings.gossipFanout = 2
        var solo = Solo(size: 7, me: 3, settings: settings)
        solo.probesOK = false
        solo.advance(.seconds(8)) { solo in
            for peer in [0, 1, 2, 4, 5, 6] { solo.view(from: peer, reachOfMe: .unreachable) }
        }
        #expect(solo.core.state == .healing)
        solo.probesOK = true
        solo.effects = []
        solo.advance(.seconds(12))
        #expect(solo.core.state == .healthy)
        let farewell = solo.effects.contains {
            if case .gossip(let content, let to, _) = $0 { content.decision == .healthy && to.count == 6 } else { false }
        }
        #expect(farewell)
    }

    /// Three nodes want to heal at once. One-way faults from the start (so that no pre-fault view
    /// vouches for anyone): b0, b1, b2 (n0...n2) transmit to nobody except b0 → b1 and b1 → b2, so each
    /// sees the state of the ones ahead of it but nobody vouches for them; n3...n6 are healthy and
    /// accuse. A heal repairs the node.
    @Test func threeNodesWantingToHealAtOnceHealOneAtATime() throws {
        var fleet = Fleet(size: 7)
        fleet.cutTransmit(0, except: [1])
        fleet.cutTransmit(1, except: [2])
        fleet.cutTransmit(2)
        fleet.run(until: .seconds(200))
        let heals = fleet.heals
        #expect(heals.map(\.node) == [0, 1, 2])
        #expect(fleet.maxConcurrentHealing == 1)
        // Each waited for the one before to finish (action 2 s + settle 10 s).
        for (a, b) in zip(heals, heals.dropFirst()) { #expect(b.at - a.at >= .seconds(12)) }
        #expect(fleet.rules(of: 1).contains(.stormGuardWait))
        #expect(fleet.rules(of: 2).contains(.stormGuardWait))
        #expect(fleet.healsWhileProbesOK.isEmpty)
        for i in 0..<7 { #expect(fleet.nodes[i].state == .healthy) }
    }
}
