import NetHealCore
import Testing

/// `NodeCore.relayedViewIsRedundant`: a newer relayed view may be skipped unverified only when the held
/// view says the same about what this node decides with and is younger than half the freshness window.
@Suite struct RedundantRelayTests {
    func redundant(
        _ solo: Solo, origin: Int, upstream: UpstreamHealth = .up, decision: DecisionState = .healthy,
        reachOfMe: Reach? = .reachable
    ) -> Bool {
        solo.core.relayedViewIsRedundant(
            origin: MemberIndex(origin), upstream: upstream, decision: decision, reachOfMe: reachOfMe, now: solo.now)
    }

    @Test func sameContentWhileYoungIsRedundant() {
        var solo = Solo(size: 5)
        solo.advance(.seconds(2)) { $0.view(from: 1, reachOfMe: .reachable) }
        #expect(redundant(solo, origin: 1))
        // Anything the decision uses that differs makes it worth verifying.
        #expect(!redundant(solo, origin: 1, reachOfMe: .unreachable))
        #expect(!redundant(solo, origin: 1, reachOfMe: .unknown))
        #expect(!redundant(solo, origin: 1, upstream: .failing))
        #expect(!redundant(solo, origin: 1, decision: .waiting))
        #expect(!redundant(solo, origin: 1, reachOfMe: nil))
        // Nothing held, or not a member this node watches (itself): never redundant.
        #expect(!redundant(solo, origin: 2))
        #expect(!redundant(solo, origin: 0))
    }

    @Test func aHeldViewOlderThanHalfTheFreshnessWindowIsRefreshed() {
        var solo = Solo(size: 5)
        solo.view(from: 1, reachOfMe: .reachable)
        let half = HealSettings().effectiveViewFreshness(memberCount: 5) / 2
        solo.advance(half - .milliseconds(1), step: half - .milliseconds(1))
        #expect(redundant(solo, origin: 1))
        solo.advance(.milliseconds(1), step: .milliseconds(1))
        #expect(!redundant(solo, origin: 1))
        // Accepting the refresh makes the next copies redundant again.
        solo.view(from: 1, reachOfMe: .reachable, direct: false)
        #expect(redundant(solo, origin: 1))
    }

    /// Skipping redundant copies never lets a peer's evidence lapse: a node fed only every copy the rule
    /// does not skip keeps every peer fresh, exactly like a node fed every copy.
    @Test func skippingNeverLetsEvidenceLapse() {
        var all = Solo(size: 5)
        var filtered = Solo(size: 5)
        for step in 0..<60 {
            for origin in 1...4 where (step + origin) % 3 == 0 {  // a copy of each peer every 3 s
                all.view(from: origin, reachOfMe: .reachable, direct: false)
                if !redundant(filtered, origin: origin) {
                    filtered.view(from: origin, reachOfMe: .reachable, direct: false)
                }
            }
            all.advance(.seconds(1))
            filtered.advance(.seconds(1))
            if step > 3 {
                #expect(filtered.core.evidence(now: filtered.now).freshPeers == 4, "step \(step)")
                #expect(all.core.evidence(now: all.now).freshPeers == 4)
            }
        }
    }
}
