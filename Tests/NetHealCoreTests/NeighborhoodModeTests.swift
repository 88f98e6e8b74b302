import Testing

@testable import NetHealCore

/// A node of a cluster larger than `neighborhoodSize + 1` watches only its neighbours (docs/scaling.md).
struct NeighborhoodModeTests {
    /// n0 of 200 members; its neighbours per the cluster's graph.
    static func solo() -> Solo { Solo(size: 200) }

    /// A listed view from `origin` saying `reachOfMe` about n0 and `reachable` about its other neighbours.
    static func listedView(
        _ solo: inout Solo, from origin: Int, reachOfMe: Reach, upstream: UpstreamHealth = .up,
        decision: DecisionState = .healthy
    ) -> ReachabilityView {
        let graph = NeighborGraph(roster: solo.roster, size: solo.core.settings.neighborhoodSize)
        let subjects = graph.neighbors(of: MemberIndex(origin))
        let reach = subjects.map { $0.int == solo.me ? reachOfMe : Reach.reachable }
        solo.sequence[origin] += 1
        return ReachabilityView(
            origin: MemberIndex(origin), incarnation: 1, sequence: solo.sequence[origin], originTimeMillis: 0,
            configDigest: 0, upstream: upstream, decision: decision, reach: reach, reachSubjects: subjects)
    }

    @Test func gossipGoesOnlyToNeighboursAndViewsListOnlyThem() {
        var solo = Self.solo()
        let neighbors = solo.core.neighbors
        #expect(!solo.core.isFullMesh)
        #expect(neighbors.count <= 32 && neighbors.count >= 8)
        var targets = Set<MemberIndex>()
        solo.advance(.seconds(30))
        for case .gossip(let content, let to, let relay) in solo.effects {
            targets.formUnion(to)
            #expect(to.count <= 8)
            #expect(content.reachSubjects == neighbors)
            #expect(content.reach.count == neighbors.count)
            #expect(relay.allSatisfy { neighbors.contains($0) })
        }
        #expect(targets == Set(neighbors), "a full pass of the round-robin reaches every neighbour and nobody else")
    }

    @Test func neighboursAccuseAndTheWedgedNodeHeals() {
        var solo = Self.solo()
        solo.probesOK = false
        let neighbors = solo.core.neighbors.map(\.int)
        solo.advance(.seconds(20)) { solo in
            for peer in neighbors {
                let view = Self.listedView(&solo, from: peer, reachOfMe: .unreachable)
                solo.feed(view: view, direct: true)
            }
        }
        #expect(solo.cycles.count == 1)
        #expect(solo.cycles.first?.rule == .accuserQuorumHeal)
        #expect(solo.core.evidence(now: solo.now).freshPeers <= neighbors.count)
    }

    @Test func oneNeighbourVouchingHoldsAndStrangersDoNotCount() {
        var solo = Self.solo()
        solo.probesOK = false
        let neighbors = solo.core.neighbors.map(\.int)
        let strangers = (1..<200).filter { !neighbors.contains($0) }.prefix(60)
        solo.advance(.seconds(20)) { solo in
            for (k, peer) in neighbors.enumerated() {
                let view = Self.listedView(&solo, from: peer, reachOfMe: k == 0 ? .reachable : .unreachable)
                solo.feed(view: view, direct: true)
            }
            // Members that do not watch n0: their views are not evidence about it, even if they list it.
            for peer in strangers {
                var view = Self.listedView(&solo, from: peer, reachOfMe: .unreachable)
                view.reachSubjects = [MemberIndex(0)]
                view.reach = [.unreachable]
                solo.feed(view: view, direct: true)
            }
        }
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.rule == .voucherHold)
        let evidence = solo.core.evidence(now: solo.now)
        #expect(evidence.freshPeers == neighbors.count)
        #expect(evidence.accuserCount == neighbors.count - 1)
    }

    @Test func theStormGuardCountsHealingNeighboursOnly() {
        var settings = HealSettings()
        settings.maxConcurrentHeals = 1
        var solo = Solo(size: 200, settings: settings)
        solo.probesOK = false
        let neighbors = solo.core.neighbors.map(\.int)
        let stranger = (1..<200).first { !neighbors.contains($0) }!
        // A healing stranger does not hold n0 back.
        solo.advance(.seconds(20)) { solo in
            for peer in neighbors {
                let view = Self.listedView(&solo, from: peer, reachOfMe: .unreachable)
                solo.feed(view: view, direct: true)
            }
            var far = Self.listedView(&solo, from: stranger, reachOfMe: .unreachable, decision: .healing)
            far.reachSubjects = [MemberIndex(0)]
            far.reach = [.unreachable]
            solo.feed(view: far, direct: true)
        }
        #expect(solo.cycles.count == 1)
        // A healing neighbour does.
        var held = Solo(size: 200, settings: settings)
        held.probesOK = false
        held.advance(.seconds(20)) { solo in
            for (k, peer) in neighbors.enumerated() {
                let view = Self.listedView(&solo, from: peer, reachOfMe: .unreachable, decision: k == 0 ? .healing : .healthy)
                solo.feed(view: view, direct: true)
            }
        }
        #expect(held.cycles.isEmpty)
        #expect(held.core.rule == .stormGuardWait)
    }
}
