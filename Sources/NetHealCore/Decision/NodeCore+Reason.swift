/// The reason line of a decision, kept as the inputs of its text: the text is built only when it is
/// read (`record`, a heal order), not on every evaluation (every tick while own probes fail, where
/// building member names and numbers cost more than the rest of the decision).
enum ReasonText: Sendable {
    /// A finished text.
    case literal(String)
    /// Own probes failed `failed` rounds in a row; `needed` are needed.
    case suspect(failed: Int, needed: Int)
    /// Own probes answer again: `good` good rounds, `needed` needed.
    case recovering(good: Int, needed: Int)
    /// Isolated (no peer heard for `window`, or a one-member cluster); `heal` is the isolation policy.
    case isolated(oneMember: Bool, window: Duration, heal: Bool)
    /// Fresh vouchers: not my interface.
    case vouchers(Tally)
    /// A quorum of fresh accusers.
    case accuserQuorum(Tally)
    /// Fresh peers fail upstream too.
    case upstreamOutage(Tally)
    /// Accusers short of the quorum.
    case quorumShort(Tally)
    /// Healing is switched off; `evidence` says heal.
    indirect case disabled(evidence: ReasonText)
    /// Backing off after `failures` failed heals until `until`.
    indirect case backoff(failures: Int, until: Instant, evidence: ReasonText)
    /// Pacing: `used` heals of `budget` per `window`, or the minimum interval; next heal at `allowed`.
    indirect case pacing(used: Int, budget: Int, window: Duration, minInterval: Duration, allowed: Instant, evidence: ReasonText)
    /// The storm guard: peers healing or ahead (`tally`).
    indirect case stormGuard(Tally, evidence: ReasonText)
    /// Announcing the heal intent until `until`.
    indirect case intent(until: Instant, evidence: ReasonText)
}

extension NodeCore {
    /// Why the node is in its state (the reason line of `record`).
    var reason: String { text(of: reasonText) }

    /// The text of `reason`, built from its inputs (member names from the roster).
    func text(of reason: ReasonText) -> String {
        switch reason {
        case .literal(let text):
            return text
        case .suspect(let failed, let needed):
            return "own probes failed \(failed) round(s) in a row; \(needed) needed"
        case .recovering(let good, let needed):
            return "own probes answer again (\(good) good round(s), \(needed) needed)"
        case .isolated(let oneMember, let window, let heal):
            let why = oneMember ? "own probes fail in a one-member cluster" : "own probes fail and no peer heard for \(window)"
            return why + (heal ? ": isolated, policy heal" : ": isolated, policy hold")
        case .vouchers(let t):
            return "own probes fail but \(t.vouchers.count) fresh peer(s) still reach me (\(names(t.vouchers)))"
                + ": not my interface"
                + (t.upstreamFailing.isEmpty && t.accusers.isEmpty && t.fresh > 0
                    ? "; no fresh peer fails upstream: suspect a local route or firewall fault" : "")
        case .accuserQuorum(let t):
            return "own probes fail, no voucher, \(t.accusers.count) of \(t.fresh) fresh peers accuse"
                + " (\(names(t.accusers))), quorum \(t.quorum)"
        case .upstreamOutage(let t):
            return "own probes fail and \(t.upstreamFailing.count) fresh peer(s) fail upstream too"
                + " (\(names(t.upstreamFailing))), \(t.accusers.count) accuser(s) < quorum \(t.quorum)"
                + ": upstream outage"
        case .quorumShort(let t):
            return "own probes fail, no voucher, \(t.accusers.count) of \(t.fresh) fresh peers accuse,"
                + " quorum \(t.quorum): not enough evidence"
        case .disabled(let evidence):
            return "healing switched off; evidence: \(text(of: evidence))"
        case .backoff(let failures, let until, let evidence):
            return "backoff after \(failures) failed heal(s) until \(until); evidence: \(text(of: evidence))"
        case .pacing(let used, let budget, let window, let minInterval, let allowed, let evidence):
            let why =
                used >= budget
                ? "heal budget spent (\(used) of \(budget) per \(window))"
                : "minimum interval \(minInterval) since the last heal"
            return "\(why): next heal allowed at \(allowed); evidence: \(text(of: evidence))"
        case .stormGuard(let t, let evidence):
            return "\(t.healingAhead.count) peer(s) healing or ahead (\(names(t.healingAhead))), limit"
                + " \(t.concurrentHealLimit); evidence: \(text(of: evidence))"
        case .intent(let until, let evidence):
            return "announcing heal intent until \(until); " + text(of: evidence)
        }
    }
}
