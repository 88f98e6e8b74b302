import Foundation
import NetHealCore
import Testing

/// Rule 7: every decision explains itself.
@Suite struct RecordTests {
    @Test func aVoucherHoldNamesItsEvidence() throws {
        var solo = Solo(size: 6)
        solo.probesOK = false
        solo.advance(.seconds(10)) { solo in
            solo.view(from: 1, reachOfMe: .unreachable)
            solo.view(from: 2, reachOfMe: .unreachable)
            solo.view(from: 3, upstream: .failing, reachOfMe: .reachable)
            solo.view(from: 4, decision: .healing, reachOfMe: .unknown)
        }
        let record = try #require(solo.lastRecord)
        #expect(record.rule == .voucherHold)
        #expect(record.rule.id == "voucher-hold")
        #expect(record.state == .hold)
        #expect(record.reason.contains("n3"))
        let e = record.evidence
        #expect(e.freshPeers == 4)
        #expect(e.vouchers == ["n3"] && e.voucherCount == 1)
        #expect(e.accusers == ["n1", "n2"] && e.accuserCount == 2)
        #expect(e.upstreamFailing == ["n3"])
        #expect(e.silent == ["n5"])
        #expect(e.healingAhead == ["n4"])
        #expect(e.quorum == 3)
        #expect(e.probes.upstream == .failing)
        #expect(e.probes.history.hasSuffix("---"))
        #expect(e.probes.lastRound == [ProbeTargetResult(target: "gw", outcome: .sendError("ENETUNREACH"))])
        #expect(record.pacing.healsInWindow == 0)
        #expect(record.pacing.maxHealsPerWindow == 3)
        // Plain JSON for `status`.
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(json.contains("\"rule\":\"voucher-hold\""))
        #expect(json.contains("\"state\":\"hold\""))
        #expect(json.contains("\"upstream\":\"failing\""))
        #expect(json.contains("\"outcome\":\"send-error:ENETUNREACH\""))
        let back = try JSONDecoder().decode(DecisionRecord.self, from: Data(json.utf8))
        #expect(back == record)
    }

    @Test func aHealRecordCarriesPacing() throws {
        var solo = Solo(size: 1)
        solo.probesOK = false
        solo.advance(.seconds(6))
        let record = solo.core.record(now: solo.now)
        #expect(record.state == .healing)
        #expect(record.pacing.healInProgress)
        #expect(record.pacing.healsInWindow == 1)
        #expect(record.pacing.nextHealAllowedAt == .seconds(64))
        #expect(record.evidence.millisSinceAnyPeerHeard == nil)
        #expect(solo.rules.contains(.isolationHeal))
    }

    @Test func everyRuleHasAStableShortID() {
        let ids = DecisionRule.allCases.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "-" } })
    }
}
