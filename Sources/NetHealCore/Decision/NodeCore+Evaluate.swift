/// Rule 3 (the decision), rule 4 (storm guard) and the gates in front of a heal.
extension NodeCore {
    /// What the evidence alone says.
    struct Verdict {
        var state: DecisionState
        var rule: DecisionRule
        var reason: String
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
            if verdict.wantsHeal {
                gate(verdict, now: now, effects: &effects)
            } else {
                waitingSince = nil
                set(verdict.state, verdict.rule, verdict.reason)
            }
        }
        guard (state, rule) != before else { return false }
        effects.append(.decisionChanged(record(now: now)))
        return state != before.0 && (Self.announces(state) || Self.announces(before.0))
    }

    static func announces(_ state: DecisionState) -> Bool {
        state == .waiting || state == .healing || state == .dryRun
    }

    mutating func set(_ state: DecisionState, _ rule: DecisionRule, _ reason: String) {
        self.state = state
        self.rule = rule
        self.reason = reason
    }

    /// Rules 1 and 3: own probes first, then isolation, vouchers, accusers, upstream-failing peers.
    func judge(now: Instant) -> Verdict {
        switch probes.upstream {
        case .unknown where probes.failedInARow == 0:
            return Verdict(state: .starting, rule: .starting, reason: "no probe round judged yet")
        case .unknown, .up:
            if probes.failedInARow == 0 {
                return Verdict(state: .healthy, rule: .ownProbesOK, reason: "own probes succeed")
            }
            return Verdict(
                state: .suspect, rule: .ownProbesSuspect,
                reason: "own probes failed \(probes.failedInARow) round(s) in a row; \(settings.failureRounds) needed")
        case .failing where probes.failedInARow == 0:
            // The last round answered: never cycle, even before the hysteresis declares the upstream up.
            return Verdict(
                state: .suspect, rule: .ownProbesRecovering,
                reason: "own probes answer again (\(probes.goodInARow) good round(s), \(settings.recoveryRounds) needed)")
        case .failing:
            break
        }
        if isIsolated(now: now) {
            let why =
                roster.count <= 1
                ? "own probes fail in a one-member cluster"
                : "own probes fail and no peer heard for \(settings.effectiveIsolationWindow(memberCount: roster.count))"
            switch settings.isolationPolicy {
            case .heal: return Verdict(state: .hold, rule: .isolationHeal, reason: why + ": isolated, policy heal")
            case .hold: return Verdict(state: .hold, rule: .isolationHold, reason: why + ": isolated, policy hold")
            }
        }
        let t = tally(now: now)
        if !t.vouchers.isEmpty {
            return Verdict(
                state: .hold, rule: .voucherHold,
                reason: "own probes fail but \(t.vouchers.count) fresh peer(s) still reach me (\(names(t.vouchers)))"
                    + ": not my interface"
                    + (t.upstreamFailing.isEmpty && t.accusers.isEmpty && t.fresh > 0
                        ? "; no fresh peer fails upstream: suspect a local route or firewall fault" : ""),
                tally: t)
        }
        if t.accusers.count >= t.quorum {
            return Verdict(
                state: .hold, rule: .accuserQuorumHeal,
                reason: "own probes fail, no voucher, \(t.accusers.count) of \(t.fresh) fresh peers accuse"
                    + " (\(names(t.accusers))), quorum \(t.quorum)", tally: t)
        }
        if !t.upstreamFailing.isEmpty {
            return Verdict(
                state: .hold, rule: .upstreamOutageHold,
                reason: "own probes fail and \(t.upstreamFailing.count) fresh peer(s) fail upstream too"
                    + " (\(names(t.upstreamFailing))), \(t.accusers.count) accuser(s) < quorum \(t.quorum)"
                    + ": upstream outage", tally: t)
        }
        return Verdict(
            state: .hold, rule: .accuserQuorumShort,
            reason: "own probes fail, no voucher, \(t.accusers.count) of \(t.fresh) fresh peers accuse,"
                + " quorum \(t.quorum): not enough evidence", tally: t)
    }

    /// Gates between "the evidence says heal" and a heal: off switch, backoff, pacing, storm guard, intent.
    mutating func gate(_ verdict: Verdict, now: Instant, effects: inout [CoreEffect]) {
        if !healingEnabled {
            waitingSince = nil
            set(.disabled, .disabled, "healing switched off; evidence: \(verdict.reason)")
            return
        }
        if let until = pacing.backoffUntil, until > now {
            waitingSince = nil
            set(
                .backoff, .backoffWait,
                "backoff after \(pacing.consecutiveFailures) failed heal(s) until \(until); evidence: \(verdict.reason)")
            return
        }
        if let allowed = nextHealAllowed(now: now), allowed > now {
            waitingSince = nil
            let used = pacing.heals(within: settings.healBudgetWindow, endingAt: now)
            let why =
                used >= settings.maxHealsPerWindow
                ? "heal budget spent (\(used) of \(settings.maxHealsPerWindow) per \(settings.healBudgetWindow))"
                : "minimum interval \(settings.minHealInterval) since the last heal"
            set(.hold, .pacingWait, "\(why): next heal allowed at \(allowed); evidence: \(verdict.reason)")
            return
        }
        let since = waitingSince ?? now
        waitingSince = since
        let t = verdict.tally ?? tally(now: now)
        if t.healingAhead.count >= t.concurrentHealLimit {
            set(
                .waiting, .stormGuardWait,
                "\(t.healingAhead.count) peer(s) healing or ahead (\(names(t.healingAhead))), limit"
                    + " \(t.concurrentHealLimit); evidence: \(verdict.reason)")
            return
        }
        if now - since < settings.healIntentDwell {
            set(.waiting, .healIntent, "announcing heal intent until \(since + settings.healIntentDwell); " + verdict.reason)
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
