import NetHealCore
import NetHealTestKit
import NetHealWire
import Testing

/// A compromised member that claims a broken node is healthy (vouches for it), or claims to be healing
/// forever (the storm guard then holds everybody else). Both lies can only hold, never cause a heal, and
/// hold only while the liar's latest view is fresh at the victim: once the liar stops (is cut off, or its
/// key is removed from the cluster file), the heal follows within viewFreshness + healIntentDwell + one tick.
@Suite struct CompromisedMemberVouchesTests {
    /// The victim (n0) cannot send (its probes fail, peers stop hearing it) but still receives; peers 1...3
    /// honestly accuse it; the liar n4 sends `lie` views until `liarStops`, then nothing.
    func run(until end: Duration, liarStops: Duration?, lie: (inout SignedVictim) -> ReachabilityView) throws -> SignedVictim {
        var v = try SignedVictim(size: 5)
        v.probesOK = false
        let stop = liarStops.map { Instant.zero + $0 }
        try v.advance(end) { v in
            for peer in 1...3 { try v.send(v.nextView(of: peer) { $0 == 0 ? .unreachable : .reachable }) }
            if stop.map({ v.now < $0 }) ?? true { try v.send(lie(&v)) }
        }
        return v
    }

    static func vouch(_ v: inout SignedVictim) -> ReachabilityView { v.nextView(of: 4) { _ in .reachable } }
    static func healingForever(_ v: inout SignedVictim) -> ReachabilityView {
        v.nextView(of: 4, decision: .healing) { $0 == 0 ? .unreachable : .reachable }
    }

    /// The bound after the liar's last view: its view stays fresh for `viewFreshness` (8 s), then the intent
    /// is announced for `healIntentDwell` (1 s), on 1 s ticks.
    let settings = HealSettings()
    var bound: Duration { settings.viewFreshness + settings.healIntentDwell + .seconds(2) }

    @Test func withoutTheLiarTheBrokenNodeHealsPromptly() throws {
        let honest = try run(until: .seconds(60), liarStops: .zero, lie: Self.vouch)
        let first = try #require(honest.firstHeal(after: .zero))
        #expect(first <= .seconds(6))
        #expect(honest.heals.first?.order.rule == .accuserQuorumHeal)
    }

    @Test func aLyingVoucherHoldsAHealOnlyWhileItsViewIsFresh() throws {
        // While it keeps vouching, it holds the heal (a denial of healing, never an action).
        let held = try run(until: .seconds(3600), liarStops: nil, lie: Self.vouch)
        #expect(held.heals.isEmpty)
        #expect(held.core.rule == .voucherHold)

        // When it stops at t = 120 s, the heal follows within the bound.
        let stop = Instant.zero + .seconds(120)
        let released = try run(until: .seconds(200), liarStops: .seconds(120), lie: Self.vouch)
        #expect(released.heals.allSatisfy { $0.at >= stop }, "no heal while the liar vouched")
        let delay = try #require(released.firstHeal(after: stop))
        #expect(delay <= bound)
        #expect(delay > settings.viewFreshness - .seconds(1), "the lie counts while its view is fresh")
        #expect(released.heals.first?.order.rule == .accuserQuorumHeal)
    }

    @Test func aLiarAnnouncingAHealForeverHoldsOthersOnlyWhileItsViewIsFresh() throws {
        let held = try run(until: .seconds(3600), liarStops: nil, lie: Self.healingForever)
        #expect(held.heals.isEmpty)
        #expect(held.core.rule == .stormGuardWait)

        let stop = Instant.zero + .seconds(120)
        let released = try run(until: .seconds(200), liarStops: .seconds(120), lie: Self.healingForever)
        #expect(released.heals.allSatisfy { $0.at >= stop })
        let delay = try #require(released.firstHeal(after: stop))
        #expect(delay <= bound)
    }
}
