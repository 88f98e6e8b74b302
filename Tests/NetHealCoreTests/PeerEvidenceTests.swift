import NetHealCore
import Testing

/// Rules 2 and 3: vouchers, accusers, upstream-failing and silent peers; the accuser quorum.
@Suite struct PeerEvidenceTests {
    /// me = n0 in 5 members; peers 1...4; `accusing` accuse, `unsure` report `unknown`, probes fail.
    func run(accusing: [Int], unsure: [Int], settings: HealSettings = HealSettings()) -> Solo {
        var solo = Solo(size: 5, settings: settings)
        solo.probesOK = false
        solo.advance(.seconds(20)) { solo in
            for peer in accusing { solo.view(from: peer, reachOfMe: .unreachable) }
            for peer in unsure { solo.view(from: peer, reachOfMe: .unknown) }
        }
        return solo
    }

    @Test func quorumExactlyMetHeals() {
        let solo = run(accusing: [1, 2, 3], unsure: [4])
        #expect(solo.cycles.count == 1)
        #expect(solo.cycles.first?.rule == .accuserQuorumHeal)
        #expect(solo.rules.contains(.healIntent))
    }

    @Test func quorumOneShortHolds() {
        let solo = run(accusing: [1, 2], unsure: [3, 4])
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.rule == .accuserQuorumShort)
        let evidence = solo.core.evidence(now: solo.now)
        #expect(evidence.quorum == 3)
        #expect(evidence.accuserCount == 2)
        #expect(evidence.freshPeers == 4)
    }

    @Test func quorumMinimumAndFractionAreHonoured() {
        var settings = HealSettings()
        settings.accuserQuorumMinimum = 4
        #expect(run(accusing: [1, 2, 3], unsure: [4], settings: settings).cycles.isEmpty)
        settings.accuserQuorumMinimum = 1
        settings.accuserQuorumFraction = 0.25  // floor(0.25 × 4) + 1 = 2
        #expect(run(accusing: [1, 2], unsure: [3, 4], settings: settings).cycles.count == 1)
    }

    @Test func anyVoucherHolds() {
        var solo = Solo(size: 5)
        solo.probesOK = false
        solo.advance(.seconds(30)) { solo in
            for peer in 1...3 { solo.view(from: peer, reachOfMe: .unreachable) }
            solo.view(from: 4, upstream: .failing, reachOfMe: .reachable)
        }
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.rule == .voucherHold)
        #expect(solo.core.state == .hold)
        #expect(solo.core.evidence(now: solo.now).vouchers == ["n4"])
    }

    @Test func peersFailingUpstreamWithoutAccuserQuorumMeanUpstreamOutage() {
        var solo = Solo(size: 5)
        solo.probesOK = false
        solo.advance(.seconds(30)) { solo in
            // Nobody vouches (they do not hear me), but they fail upstream too: not an accusation.
            for peer in 1...3 { solo.view(from: peer, upstream: .failing, reachOfMe: .unreachable) }
            solo.view(from: 4, reachOfMe: .unreachable)
        }
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.rule == .upstreamOutageHold)
        let evidence = solo.core.evidence(now: solo.now)
        #expect(evidence.upstreamFailingCount == 3)
        #expect(evidence.accusers == ["n4"])
    }

    @Test func aPeerFlappingBetweenVoucherAndSilentHoldsExactlyWhileItsVoucherIsFresh() {
        var solo = Solo(size: 4)
        solo.probesOK = false
        solo.advance(.seconds(40)) { solo in
            solo.view(from: 1, reachOfMe: .unreachable)
            solo.view(from: 2, reachOfMe: .unreachable)
            let t = solo.now.nanoseconds / 1_000_000_000
            if [1, 2, 3, 9].contains(t) { solo.view(from: 3, reachOfMe: .reachable) }
        }
        // Voucher last received at t = 9 s: fresh until 17 s; intent at 17 s, heal at 18 s.
        let first = try! #require(solo.healTimes.first)
        #expect(first >= .seconds(17))
        #expect(first <= .seconds(19))
        #expect(solo.cycles.count == 1)
        let holds = solo.rules.filter { $0 == .voucherHold }
        #expect(!holds.isEmpty)
    }

    @Test func aPeerClockAnHourOffChangesNothing() {
        func run(offsetMillis: Int64) -> [Instant] {
            var solo = Solo(size: 4)
            solo.probesOK = false
            solo.advance(.seconds(30)) { solo in
                let wall = UInt64(1_700_000_000_000 + offsetMillis + solo.now.nanoseconds / 1_000_000)
                solo.view(from: 1, reachOfMe: .unreachable, originTimeMillis: wall)
                solo.view(from: 2, reachOfMe: .unreachable, originTimeMillis: wall)
                if solo.now <= .seconds(5) { solo.view(from: 3, reachOfMe: .reachable, originTimeMillis: wall) }
            }
            return solo.healTimes
        }
        let reference = run(offsetMillis: 0)
        #expect(reference.count == 1)
        #expect(run(offsetMillis: 3_600_000) == reference)
        #expect(run(offsetMillis: -3_600_000) == reference)
    }

    @Test func aStaleRelayedViewIsNotEvidenceAndReplaysDoNotRefreshIt() {
        var solo = Solo(size: 3)
        solo.probesOK = false
        var reach: [Reach] = [.reachable, .reachable, .isSelf]
        let voucher = ReachabilityView(
            origin: MemberIndex(2), incarnation: 1, sequence: 10, originTimeMillis: 0, configDigest: 0,
            upstream: .up, decision: .healthy, reach: reach)
        reach[0] = .unreachable
        let older = ReachabilityView(
            origin: MemberIndex(2), incarnation: 1, sequence: 9, originTimeMillis: 0, configDigest: 0,
            upstream: .up, decision: .healthy, reach: reach)
        solo.advance(.seconds(1))
        solo.feed(view: voucher, direct: false)  // relayed at t = 1 s
        solo.advance(.seconds(30)) { solo in
            solo.view(from: 1, reachOfMe: .unreachable)
            if solo.now == .seconds(5) {
                solo.feed(view: voucher, direct: false)  // the same version again: not newer, ignored
                solo.feed(view: older, direct: false)  // an older version: ignored
            }
        }
        // Fresh until 9 s; then n1 alone is a quorum of 1.
        let first = try! #require(solo.healTimes.first)
        #expect(first >= .seconds(9))
        #expect(first <= .seconds(11))
        // A relayed view is evidence but not contact: n2 was never heard directly.
        #expect(solo.lastGossip?.content.reach == [.isSelf, .reachable, .unreachable])
    }

    /// The dropped-default-route case: the LAN works, peers are fine upstream and still reach me. By
    /// rule this is a hold (cycling is not proven to help); the record says what it suspects.
    @Test func aDroppedDefaultRouteHoldsAndSaysSo() {
        var solo = Solo(size: 4)
        solo.probesOK = false
        solo.advance(.seconds(60)) { solo in
            for peer in 1...3 { solo.view(from: peer, reachOfMe: .reachable) }
        }
        #expect(solo.cycles.isEmpty)
        #expect(solo.core.rule == .voucherHold)
        #expect(solo.lastRecord?.reason.contains("local route") == true)
    }

    @Test func silentPeersAreNamed() {
        var solo = Solo(size: 4)
        solo.advance(.seconds(3)) { solo in solo.view(from: 1, reachOfMe: .reachable) }
        let evidence = solo.core.evidence(now: solo.now)
        #expect(evidence.silent == ["n2", "n3"])
        #expect(evidence.silentCount == 2)
        #expect(evidence.vouchers == ["n1"])
    }
}
