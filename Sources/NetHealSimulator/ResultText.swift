import NetHealCore

/// Plain-text rendering of runs for the terminal.
public enum ResultText {
    /// The line printed before a run starts (the seed first, as VOPR does).
    public static func header(_ s: Scenario, policy: PolicyKind) -> String {
        "seed \(s.seed) · \(s.source) · policy \(policy.rawValue) · \(s.fleetSize) nodes · "
            + "\(SimDuration.format(s.duration)) simulated · signer \(signerText(s.signer))"
    }

    public static func signerText(_ k: SignerKind) -> String {
        switch k {
        case .ed25519: "ed25519 (libsodium)"
        case .fast: "FAST STAND-IN (not Ed25519; keyed hash, same sizes)"
        }
    }

    /// Verdict, heals, rejections and violations of one run.
    public static func body(_ r: SimulationResult, maxHeals: Int = 20) -> String {
        var out: [String] = []
        let verdict = r.passed ? "PASS" : (r.exitCode == 2 ? "FAIL (liveness)" : "FAIL (safety)")
        out.append("\(verdict) \(r.scenario): \(r.heals.count) heal(s), \(r.trueHeals) true, \(r.falseHeals) false;"
            + " \(r.events) events in \(String(format2: r.wallSeconds))s wall; trace \(hex(r.traceHash))")
        for h in r.heals.prefix(maxHeals) {
            let kind = h.dryRun ? "would-heal" : "heal"
            var truth = h.justified ? "true" : "FALSE"
            if let since = h.brokenSince { truth += ", \(SimDuration.seconds(h.at - since)) after the fault" }
            out.append("  \(kind) \(Scenario.nodeName(h.node)) at \(SimDuration.seconds(h.at)) \(h.rule.id) (\(truth)): \(h.reason)")
        }
        if r.heals.count > maxHeals { out.append("  … \(r.heals.count - maxHeals) more heal(s)") }
        if !r.rejected.isEmpty {
            out.append("  rejected datagrams: " + r.rejected.map { "\($0.reason) \($0.count)" }.joined(separator: ", "))
        }
        if r.injectedDelivered > 0 {
            out.append("  injected datagrams: \(r.injectedDelivered) delivered, \(r.injectedAccepted) accepted"
                + (r.acceptedAfterRestart > 0 ? " (\(r.acceptedAfterRestart) by a freshly restarted receiver)" : ""))
        }
        if r.signer == .ed25519 {
            out.append("  signatures: \(r.verificationsComputed) verified by libsodium"
                + (r.verifierThread ? " (ahead, on a second thread)" : "")
                + ", \(r.verificationsMemoized) identical re-checks memoized; \(r.datagramsDelivered) datagrams accepted")
        }
        for v in r.violations { out.append("  \(v)") }
        return out.joined(separator: "\n")
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - s.count) + s
    }
}

extension String {
    /// Two decimals.
    init(format2 v: Double) {
        let scaled = Int((v * 100).rounded())
        let frac = abs(scaled % 100)
        self = "\(scaled / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
