/// Rule 3 (the decision), rule 4 (storm guard) and the gates in front of a heal.
extension NodeCore {
    /// What the evidence alone says.
    struct Verdict {
        var state: DecisionState
        var rule: DecisionRule
        var reason: ReasonText
        /// The peer classification the verdict used, if it needed one (reused by the storm guard).
        var tally: Tally? = nil
        var wantsHeal: Bool { rule == .accuserQuorumHeal || rule == .isolationHeal }
    }

    /// Re-decide. Returns true when the node entered or left an announcing state (waiting, healing,
    /// dry-run healing): its view then goes to every peer at once, so that peers' storm guards neither
    /// miss the intent nor keep counting a heal that has ended.
    @discardableResult
    mutating func evaluate(now: Instant, effects: inout [CoreEffect]) -> Bool {
        let before = (state, rule)
        // The classification the verdict used, if any: the record below is made at the same instant
        // from the same peer state, so it reuses it instead of classifying every neighbour again.
        var classified: Tally?
        progressHeal(now: now, effects: &effects)
        if let running = pacing.inProgress {
            waitingSince = nil
            if let finished = running.actionFinishedAt {
                set(
                    running.dryRun ? .dryRun : .healing, running.dryRun ? .dryRun : .healSettling,
                    "heal finished at \(finished); judged by the probes at \(finished + settings.settleTime)")
            } else {
                set(.healing, .healInProgress, "heal action step \(running.step) running since \(running.startedAt)")
            }
        } else {
            let verdict = judge(now: now)
            classified = verdict.tally
            if verdict.wantsHeal {
                gate(verdict, now: now, effects: &effects)
            } else {
                waitingSince = nil
                set(verdict.state, verdict.rule, verdict.reason)
            }
        }
        guard (state, rule) != before else { return false }
        effects.append(.decisionChanged(record(now: now, tally: classified)))
        return state != before.0 && (Self.announces(state) || Self.announces(before.0))
    }

    static func announces(_ state: DecisionState) -> Bool {
        state == .waiting || state == .healing || state == .dryRun
    }

    mutating func set(_ state: DecisionState, _ rule: DecisionRule, _ reason: String) {
        set(state, rule, .literal(reason))
    }

    /// Like `set(_:_:_:)`, the reason's text built only when read.
    mutating func set(_ state: DecisionState, _ rule: DecisionRule, _ reason: ReasonText) {
        self.state = state
        self.rule = rule
        self.reasonText = reason
    }

    /// Rules 1 and 3: own probes first, then isolation, vouchers, accusers, upstream-failing peers.
    /// Changes nothing; `mutating` only so that `evaluate` lends it the core in place (a non-mutating
    /// call from a mutating method copied the whole ~800-byte core first, every evaluation).
    mutating func judge(now: Instant) -> Verdict {
        switch probes.upstream {
        case .unknown where probes.failedInARow == 0:
            return Verdict(state: .starting, rule: .starting, reason: .literal("no probe round judged yet"))
        case .unknown, .up:
            if probes.failedInARow == 0 {
                return Verdict(state: .healthy, rule: .ownProbesOK, reason: .literal("own probes succeed"))
            }
            return Verdict(
                state: .suspect, rule: .ownProbesSuspect,
                reason: .suspect(failed: probes.failedInARow, needed: settings.failureRounds))
        case .failing where probes.failedInARow == 0:
            // The last round answered: never cycle, even before the hysteresis declares the upstream up.
            return Verdict(
                state: .suspect, rule: .ownProbesRecovering,
                reason: .recovering(good: probes.goodInARow, needed: settings.recoveryRounds))
        case .failing:
            break
        }
        if isIsolated(now: now) {
            let why = ReasonText.isolated(
                oneMember: roster.count <= 1, window: settings.effectiveIsolationWindow(memberCount: roster.count),
                heal: settings.isolationPolicy == .heal)
            switch settings.isolationPolicy {
            case .heal: return Verdict(state: .hold, rule: .isolationHeal, reason: why)
            case .hold: return Verdict(state: .hold, rule: .isolationHold, reason: why)
            }
        }
        let t = tally(now: now)
        if !t.vouchers.isEmpty {
            return Verdict(state: .hold, rule: .voucherHold, reason: .vouchers(t), tally: t)
        }
        if t.accusers.count >= t.quorum {
            return Verdict(state: .hold, rule: .accuserQuorumHeal, reason: .accuserQuorum(t), tally: t)
        }
        if !t.upstreamFailing.isEmpty {
            return Verdict(state: .hold, rule: .upstreamOutageHold, reason: .upstreamOutage(t), tally: t)
        }
        return Verdict(state: .hold, rule: .accuserQuorumShort, reason: .quorumShort(t), tally: t)
    }

    /// Gates between "the evidence says heal" and a heal: off switch, backoff, pacing, storm guard, intent.
    mutating func gate(_ verdict: Verdict, now: Instant, effects: inout [CoreEffect]) {
        if !healingEnabled {
            waitingSince = nil
            set(.disabled, .disabled, .disabled(evidence: verdict.reason))
            return
        }
        if let until = pacing.backoffUntil, until > now {
            waitingSince = nil
            set(.backoff, .backoffWait, .backoff(failures: pacing.consecutiveFailures, until: until, evidence: verdict.reason))
            return
        }
        if let allowed = nextHealAllowed(now: now), allowed > now {
            waitingSince = nil
            let used = pacing.heals(within: settings.healBudgetWindow, endingAt: now)
            set(
                .hold, .pacingWait,
                .pacing(
                    used: used, budget: settings.maxHealsPerWindow, window: settings.healBudgetWindow,
                    minInterval: settings.minHealInterval, allowed: allowed, evidence: verdict.reason))
            return
        }
        let since = waitingSince ?? now
        waitingSince = since
        let t = verdict.tally ?? tally(now: now)
        if t.healingAhead.count >= t.concurrentHealLimit {
            set(.waiting, .stormGuardWait, .stormGuard(t, evidence: verdict.reason))
            return
        }
        if now - since < settings.healIntentDwell {
            set(.waiting, .healIntent, .intent(until: since + settings.healIntentDwell, evidence: verdict.reason))
            return
        }
        startHeal(verdict, now: now, effects: &effects)
    }

    /// Member names for a reason line (at most `Evidence.nameLimit`).
    func names(_ indices: [Int]) -> String {
        // Appended in place (the same text as joining the names with ", "): this runs on every
        // evaluation while own probes fail.
        var text = ""
        let shown = min(indices.count, Evidence.nameLimit)
        for k in 0..<shown {
            if k > 0 { text += ", " }
            text += roster.name(MemberIndex(indices[k]))
        }
        if indices.count > shown { text += ", +\(indices.count - shown)" }
        return text
    }
}
