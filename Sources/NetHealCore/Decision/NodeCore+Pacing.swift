/// Rule 5 (pacing) and rule 6 (dry run): starting, finishing and judging heals.
extension NodeCore {
    /// The earliest instant a heal may start by minimum interval and budget (nil = no limit applies).
    /// Backoff is handled separately (`pacing.backoffUntil`).
    func nextHealAllowed(now: Instant) -> Instant? {
        var allowed: Instant?
        if let last = pacing.lastHealAt { allowed = last + settings.minHealInterval }
        let window = settings.healBudgetWindow
        let inWindow = pacing.history.filter { $0.startedAt > now - window && $0.startedAt <= now }
        let budget = max(0, settings.maxHealsPerWindow)
        if inWindow.count >= budget {
            // The budget frees up when enough of the heals in the window have left it.
            let freeing = inWindow.count - budget
            let at = freeing < inWindow.count ? inWindow[freeing].startedAt + window : now + window
            allowed = max(allowed ?? at, at)
        }
        return allowed
    }

    /// The backoff after `failures` consecutive failed heals: initial × 2^(failures−1), capped.
    func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var value = settings.backoffInitial
        for _ in 1..<min(failures, 62) {
            value = value * 2
            if value >= settings.backoffMax { return settings.backoffMax }
        }
        return min(value, settings.backoffMax)
    }

    func escalationStep(failures: Int) -> Int {
        guard settings.escalationAfterFailures > 0 else { return 0 }
        return min(max(0, settings.escalationSteps - 1), failures / settings.escalationAfterFailures)
    }

    mutating func startHeal(_ verdict: Verdict, now: Instant, effects: inout [CoreEffect]) {
        let dryRun = settings.dryRun
        let step = pacing.escalationStep
        pacing.history.append(
            HealRecord(startedAt: now, rule: verdict.rule, step: step, dryRun: dryRun, result: .pending, detail: nil))
        // Keep enough history for the budget however large it is configured.
        let keep = max(PacingState.historyLimit, settings.maxHealsPerWindow + 1)
        if pacing.history.count > keep { pacing.history.removeFirst(pacing.history.count - keep) }
        pacing.inProgress = HealInProgress(startedAt: now, actionFinishedAt: dryRun ? now : nil, dryRun: dryRun, step: step)
        waitingSince = nil
        let reason = text(of: verdict.reason)
        let order = HealOrder(
            rule: verdict.rule, reason: reason, step: step,
            healsInWindow: pacing.heals(within: settings.healBudgetWindow, endingAt: now))
        // Persist first: a crash during the action must still count the heal.
        effects.append(.persist(pacing))
        if dryRun {
            effects.append(.wouldHeal(order))
            set(.dryRun, verdict.rule, "dry run, would heal now: " + reason)
        } else {
            effects.append(.cycleInterface(order))
            set(.healing, verdict.rule, "healing now (step \(step)): " + reason)
        }
    }

    /// The shell reports the end of the action.
    mutating func finishAction(_ outcome: HealOutcome, now: Instant, effects: inout [CoreEffect]) {
        guard var running = pacing.inProgress, running.actionFinishedAt == nil, !running.dryRun else { return }
        switch outcome {
        case .completed:
            running.actionFinishedAt = now
            pacing.inProgress = running
            effects.append(.persist(pacing))
        case .failed(let detail):
            concludeHeal(.actionFailed, detail: detail, now: now, effects: &effects)
        case .timedOut:
            concludeHeal(.actionFailed, detail: "action timed out", now: now, effects: &effects)
        }
    }

    /// Time-driven progress of a running heal: the action deadline and the end of the settle time.
    mutating func progressHeal(now: Instant, effects: inout [CoreEffect]) {
        guard let running = pacing.inProgress else { return }
        guard let finished = running.actionFinishedAt else {
            if now - running.startedAt >= settings.healActionDeadline {
                concludeHeal(.actionFailed, detail: "no outcome within \(settings.healActionDeadline)", now: now,
                    effects: &effects)
            }
            return
        }
        guard now - finished >= settings.settleTime else { return }
        if probes.upstream == .up {
            concludeHeal(.succeeded, detail: nil, now: now, effects: &effects)
        } else {
            concludeHeal(.notRecovered, detail: "own probes still failing after \(settings.settleTime)", now: now,
                effects: &effects)
        }
    }

    mutating func concludeHeal(_ result: HealResult, detail: String?, now: Instant, effects: inout [CoreEffect]) {
        if let last = pacing.history.indices.last, pacing.history[last].result == .pending {
            pacing.history[last].result = result
            if let detail { pacing.history[last].detail = detail }
        }
        pacing.inProgress = nil
        if result == .succeeded {
            pacing.consecutiveFailures = 0
            pacing.backoffUntil = nil
        } else {
            pacing.consecutiveFailures += 1
            pacing.backoffUntil = now + backoff(failures: pacing.consecutiveFailures)
        }
        pacing.escalationStep = escalationStep(failures: pacing.consecutiveFailures)
        effects.append(.persist(pacing))
    }

    /// The pacing as `status` shows it.
    func pacingSummary(now: Instant) -> PacingSummary {
        let backoffUntil = pacing.backoffUntil.flatMap { $0 > now ? $0 : nil }
        let allowed = [nextHealAllowed(now: now), backoffUntil].compactMap { $0 }.max()
        return PacingSummary(
            nextHealAllowedAt: allowed.flatMap { $0 > now ? $0 : nil },
            healsInWindow: pacing.heals(within: settings.healBudgetWindow, endingAt: now),
            maxHealsPerWindow: settings.maxHealsPerWindow, consecutiveFailures: pacing.consecutiveFailures,
            backoffMillis: backoffUntil == nil ? 0 : backoff(failures: pacing.consecutiveFailures).millisecondsClamped,
            escalationStep: pacing.escalationStep, healInProgress: pacing.inProgress != nil)
    }
}
