/// Rule "every decision explains itself": the record `status` prints.
extension NodeCore {
    /// The current decision with its full evidence, computed at `now` (for `status`).
    public func record(now: Instant) -> DecisionRecord {
        record(now: now, tally: nil)
    }

    /// `record(now:)`, with `tally` = `tally(now: now)` when the caller has it already (nil: computed).
    func record(now: Instant, tally: Tally?) -> DecisionRecord {
        DecisionRecord(
            at: now, state: state, rule: rule, reason: reason, evidence: evidence(now: now, tally: tally),
            pacing: pacingSummary(now: now))
    }

    /// The evidence as of `now`: peer classification, probe summary, time since any peer was heard.
    public func evidence(now: Instant) -> Evidence {
        evidence(now: now, tally: nil)
    }

    /// `evidence(now:)`, with `tally` = `tally(now: now)` when the caller has it already (nil: computed).
    func evidence(now: Instant, tally known: Tally?) -> Evidence {
        let t = known ?? tally(now: now)
        var e = Evidence(probes: probes.summary)
        e.freshPeers = t.fresh
        e.quorum = t.quorum
        e.voucherCount = t.vouchers.count
        e.vouchers = nameList(t.vouchers)
        e.accuserCount = t.accusers.count
        e.accusers = nameList(t.accusers)
        e.upstreamFailingCount = t.upstreamFailing.count
        e.upstreamFailing = nameList(t.upstreamFailing)
        e.silentCount = t.silent.count
        e.silent = nameList(t.silent)
        e.healingAheadCount = t.healingAhead.count
        e.healingAhead = nameList(t.healingAhead)
        e.concurrentHealLimit = t.concurrentHealLimit
        if !neighbors.isEmpty, let reference = lastHeardAny ?? startedAt {
            e.millisSinceAnyPeerHeard = (now - reference).millisecondsClamped
        }
        return e
    }

    private func nameList(_ indices: [Int]) -> [String] {
        indices.prefix(Evidence.nameLimit).map { roster.name(MemberIndex($0)) }
    }
}
