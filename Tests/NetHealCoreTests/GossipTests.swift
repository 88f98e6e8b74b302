import NetHealCore
import Testing

/// Rule 7 (reach content) and gossip targets/relays.
@Suite struct GossipTests {
    @Test func reachIsUnknownDuringGraceThenUnreachableAndReachableWhenHeard() throws {
        var solo = Solo(size: 3)
        solo.advance(.seconds(2)) { solo in solo.view(from: 1, reachOfMe: .reachable) }
        #expect(solo.core.viewContent(now: solo.now).reach == [.isSelf, .reachable, .unknown])
        solo.advance(.seconds(3)) { solo in solo.view(from: 1, reachOfMe: .reachable) }
        #expect(solo.core.viewContent(now: solo.now).reach == [.isSelf, .reachable, .unreachable])
        solo.advance(.seconds(4))  // n1 silent for 4 s = peerSilenceTimeout
        #expect(solo.core.viewContent(now: solo.now).reach == [.isSelf, .unreachable, .unreachable])
    }

    @Test func fewPeersAllGetEveryRound() throws {
        var solo = Solo(size: 5)
        solo.advance(.seconds(1))
        #expect(solo.lastGossip?.to == [1, 2, 3, 4].map { MemberIndex($0) })
    }

    @Test func fanoutIsARoundRobinOverASeededShuffle() throws {
        var settings = HealSettings()
        settings.gossipFanout = 4
        func targets(seedMe: Int) -> [[MemberIndex]] {
            var solo = Solo(size: 13, me: seedMe, settings: settings)
            var rounds: [[MemberIndex]] = []
            for _ in 0..<6 {
                solo.advance(.seconds(1))
                rounds.append(solo.lastGossip?.to ?? [])
            }
            return rounds
        }
        let rounds = targets(seedMe: 0)
        #expect(rounds.allSatisfy { $0.count == 4 && Set($0).count == 4 && !$0.contains(MemberIndex(0)) })
        // 12 peers, 4 per round: every peer exactly once in each pass of 3 rounds.
        #expect(Set(rounds[0..<3].flatMap { $0 }).count == 12)
        #expect(Set(rounds[3..<6].flatMap { $0 }).count == 12)
        #expect(targets(seedMe: 0) == rounds)  // deterministic
    }

    @Test func onlyRecentFirstHandViewsAreRelayed() throws {
        var solo = Solo(size: 6)
        solo.advance(.seconds(1)) { solo in
            solo.view(from: 1, reachOfMe: .reachable)
            solo.view(from: 2, reachOfMe: .reachable, direct: false)
            solo.view(from: 3, decision: .waiting, reachOfMe: .reachable)
        }
        let relay = try #require(solo.lastGossip?.relay)
        #expect(relay.count == 2)
        #expect(relay.first == MemberIndex(3))  // announcing states first
        #expect(!relay.contains(MemberIndex(2)))  // relayed views are never relayed again
        solo.advance(.seconds(3))
        #expect(solo.lastGossip?.relay == [])  // older than two gossip intervals
    }

    @Test func largeClustersStretchSilenceAndFreshness() {
        let settings = HealSettings()
        #expect(settings.effectivePeerSilenceTimeout(memberCount: 9) == .seconds(4))
        #expect(settings.effectiveViewFreshness(memberCount: 9) == .seconds(8))
        // 33 members: a full mesh of 32 peers, 4 rounds of 8: windows stretch to 2 × 4 rounds.
        #expect(settings.gossipRoundsPerCycle(memberCount: 33) == 4)
        #expect(settings.effectivePeerSilenceTimeout(memberCount: 33) == .seconds(8))
        #expect(settings.effectiveViewFreshness(memberCount: 33) == .seconds(8))
        // Beyond 33 members a node watches at most `neighborhoodSize` (32) peers: the windows stop growing.
        #expect(settings.gossipRoundsPerCycle(memberCount: 10_000) == 4)
        #expect(settings.effectiveViewFreshness(memberCount: 10_000) == .seconds(8))
        var wide = settings
        wide.neighborhoodSize = 64
        #expect(wide.gossipRoundsPerCycle(memberCount: 50) == 7)
        #expect(wide.effectivePeerSilenceTimeout(memberCount: 50) == .seconds(14))
        #expect(wide.effectiveViewFreshness(memberCount: 50) == .seconds(14))
    }
}
