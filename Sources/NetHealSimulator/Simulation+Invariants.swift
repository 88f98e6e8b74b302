import NetHealCore
import NetHealWire

/// What the invariant checker remembers between events.
struct CheckerState {
    /// The node's last completed probe round answered (reset when its agent restarts).
    var lastProbeAnswered: [Bool]
    /// Every heal start per node (simulated ns), across restarts: pacing is checked against this.
    var healStarts: [[Int64]]
    /// Nodes whose heal may still be running or settling.
    var healing: [Int] = []
    /// Per receiver, the highest version accepted from each origin in the current process (lazily
    /// sized; full mesh). Never copied: the parallel engine's threads write their own receivers' rows.
    var lastAccepted: FixedArray<[ViewVersion]>
    /// The same in neighbourhood mode, where a receiver hears only a few dozen origins: the `accepted`
    /// of each (receiver, neighbour) cell, beside the relay memory (`Simulation.cells`), so that 10,000
    /// nodes do not need 10,000² versions (1.6 GB).
    var restarted: [Bool]
    var lastRestart: [Int64]
    var firstWedgeAt: [Int64?]
    var obligations: [Obligation] = []
    /// `Simulation.livenessBound` per (wedge mode, extra freshness), once computed.
    var boundCache: [Int64?] = Array(repeating: nil, count: 6)
    /// `minHealInterval` and `healBudgetWindow` in nanoseconds (asked after every event while a wedge
    /// is pending; a `Duration` conversion is a 128-bit multiplication).
    let minHealIntervalNanos: Int64
    let healBudgetWindowNanos: Int64
    /// The node's interface could send when its latest heal started (so peers can have seen it healing).
    var announcedHeal: [Bool]

    init(n: Int, settings: HealSettings) {
        minHealIntervalNanos = settings.minHealInterval.nanosecondsClamped
        healBudgetWindowNanos = settings.healBudgetWindow.nanosecondsClamped
        lastProbeAnswered = Array(repeating: false, count: n)
        healStarts = Array(repeating: [], count: n)
        lastAccepted = FixedArray(repeating: [], count: n)
        restarted = Array(repeating: false, count: n)
        lastRestart = Array(repeating: Int64.min / 2, count: n)
        firstWedgeAt = Array(repeating: nil, count: n)
        announcedHeal = Array(repeating: false, count: n)
    }
}

/// A liveness obligation: a wedged node must heal within `bound` of `clockStart`; the clock restarts
/// while the node may legitimately not heal (crashed, heal running/settling, pacing, no quorum, a peer healing).
struct Obligation {
    var node: Int
    var mode: WedgeMode
    var wedgedAt: Int64
    var clockStart: Int64
    /// Another member was healing meanwhile: its `healing` view may stay fresh at this node for up to
    /// the view freshness (docs/design.md §13 L1), so that much is added to the bound.
    var peerHealingSeen = false
    /// (tx) Not every peer can reach this node: a peer's last view, vouching for it from before the fault,
    /// stays fresh for up to the view freshness (docs/design.md L2 assumes all peers healthy).
    var staleVoucherPossible = false
}

/// The invariant checker: safety on every heal and every accepted datagram, liveness after every event.
/// The properties and the bounds are listed in docs/simulation.md ("What is checked").
extension Simulation {
    static var maxViolations: Int { 50 }

    func violate(_ kind: Violation.Kind, _ node: Int?, _ message: String) {
        guard result.violations.count < Self.maxViolations else { return }
        result.violations.append(Violation(kind: kind, at: now, node: node, message: message))
    }

    var durationNs: (Duration) -> Int64 { { $0.nanosecondsClamped } }

    /// Time after which "own probes succeed" must have reached the core (a probe round and its timeout).
    var probeLag: Int64 { 2 * settings.probeInterval.nanosecondsClamped + 2 * settings.probeTimeout.nanosecondsClamped + tick }

    // MARK: Safety: heals

    func onHealStarted(_ heal: SimHeal) {
        let i = heal.node
        let what = heal.dryRun ? "would-heal" : "heal"
        // S1: no cycle while own probes succeed.
        if check.lastProbeAnswered[i] {
            violate(.safety, i, "\(what) (\(heal.rule.id)) while its last probe round answered")
        } else if truthFineSince[i] != .max, now - truthFineSince[i] >= probeLag {
            violate(.safety, i, "\(what) (\(heal.rule.id)) while interface and upstream have been fine for "
                + SimDuration.seconds(now - truthFineSince[i]))
        }
        // S2: none during a pure upstream outage (interface fine, connected to a working peer, no lossy net).
        if ifaceFineSince[i] != .max, now - ifaceFineSince[i] >= probeLag, !upstreamOK(i), scenario.network.loss <= 0.05 {
            let quiet = settings.effectiveViewFreshness(memberCount: n).nanosecondsClamped
                + settings.effectiveIsolationWindow(memberCount: n).nanosecondsClamped
            if now - lastCutTouch[i] > quiet, let m = workingPeer(of: i, quietFor: quiet) {
                violate(.safety, i, "\(what) (\(heal.rule.id)) during an upstream outage while its interface works"
                    + " and \(Scenario.nodeName(m)) reaches it: \(heal.reason)")
            }
        }
        checkPacing(i, what: what)
        checkStormGuard(i, what: what)
        check.healStarts[i].append(now)
        check.announcedHeal[i] = ifaceTx(i) && lastDisturbedTx(i)
        if !check.healing.contains(i) { check.healing.append(i) }
        check.obligations.removeAll { $0.node == i }
    }

    /// A peer that is up, has a working interface, was not disturbed for `quietFor`, and is connected to `i`
    /// both ways over non-lossy links. In neighbourhood mode only `i`'s neighbours count: they are the
    /// members it watches and hears from (docs/scaling.md §5, "cut off from every neighbour").
    func workingPeer(of i: Int, quietFor quiet: Int64) -> Int? {
        let candidates = graph.isFullMesh ? Array(0..<n) : graph.neighbors(of: MemberIndex(i)).map(\.int)
        for m in candidates where m != i && running[m] && ifaceWorks(m) && now - lastDisturbed[m] > quiet {
            if !blocked(m, i), !blocked(i, m), params(m, i).loss <= 0.05, params(i, m).loss <= 0.05 { return m }
        }
        return nil
    }

    func checkPacing(_ i: Int, what: String) {
        let starts = check.healStarts[i]
        if let last = starts.last, now - last < settings.minHealInterval.nanosecondsClamped {
            violate(.safety, i, "\(what) \(SimDuration.seconds(now - last)) after the previous one;"
                + " minHealInterval is \(SimDuration.format(settings.minHealInterval))")
        }
        let window = settings.healBudgetWindow.nanosecondsClamped
        let inWindow = starts.filter { $0 > now - window }.count + 1
        if inWindow > settings.maxHealsPerWindow {
            violate(.safety, i, "\(what) is number \(inWindow) within \(SimDuration.format(settings.healBudgetWindow));"
                + " maxHealsPerWindow is \(settings.maxHealsPerWindow)")
        }
        if let until = persisted[i]?.backoffUntil {
            let globalUntil = until.nanoseconds &- persistedOffset[i]
            if globalUntil > now {
                violate(.safety, i, "\(what) during the backoff (until \(SimDuration.seconds(globalUntil)))")
            }
        }
    }

    /// S3: a node must not start a heal while `limit` peers it has been hearing over clean links are healing.
    func checkStormGuard(_ i: Int, what: String) {
        pruneHealing()
        let gossip = settings.gossipInterval.nanosecondsClamped
        // In neighbourhood mode the guard is per neighbourhood: only neighbours' heals hold a node back
        // (docs/scaling.md §4).
        let watched = graph.isFullMesh ? nil : graph.neighbors(of: MemberIndex(i))
        let peers = watched.map { $0.count + 1 } ?? n
        let limit = max(1, min(settings.maxConcurrentHeals, Int(settings.maxConcurrentHealFraction * Double(peers))))
        var seen: [Int] = []
        for m in check.healing where m != i {
            if let watched, !watched.contains(MemberIndex(m)) { continue }
            guard let start = check.healStarts[m].last, now - start >= 2 * gossip + 50_000_000 else { continue }
            // Its announcement could leave only if its interface was sending when the heal started.
            guard check.announcedHeal[m] else { continue }
            guard running[m], check.lastRestart[m] < start, check.lastRestart[i] < start - gossip * 8 else { continue }
            guard ifaceFineSince[i] != .max, ifaceFineSince[i] <= start - gossip else { continue }
            guard lastCutTouch[i] < start - gossip, lastCutTouch[m] < start - gossip, !blocked(m, i), !blocked(i, m),
                params(m, i).loss < 0.05
            else { continue }
            seen.append(m)
        }
        if seen.count >= limit {
            violate(.safety, i, "\(what) while \(seen.count) peer(s) it hears are healing ("
                + seen.map(Scenario.nodeName).joined(separator: ", ") + "); storm-guard limit \(limit)")
        }
    }

    /// The interface has been sending for at least the heal-intent dwell (its `waiting` view went out).
    func lastDisturbedTx(_ i: Int) -> Bool {
        ifaceFineSince[i] != .max && now - ifaceFineSince[i] >= settings.healIntentDwell.nanosecondsClamped
    }

    func pruneHealing() {
        check.healing.removeAll { m in
            guard running[m] else { return false }
            return pacingIdle(m) && !healDown[m]
        }
    }

    /// A heal's action finished: a repairable wedge (also one that struck during the heal) is gone.
    func onHealRepaired(_ i: Int) {
        if wedge[i] == 0 { check.obligations.removeAll { $0.node == i } }
    }

    func onCrashed(_ i: Int) {}

    func onRestarted(_ i: Int) {
        check.lastProbeAnswered[i] = false
        check.lastAccepted[i] = []
        if !graph.isFullMesh { cells.resetAccepted(i) }
        check.restarted[i] = true
        check.lastRestart[i] = now
    }

    /// The core's own explanation of a heal must match its rules (docs/design.md §12 S3, S4 local).
    func checkRecord(_ i: Int, _ record: DecisionRecord) {
        guard record.state == .healing || record.state == .dryRun else { return }
        let e = record.evidence
        switch record.rule {
        case .accuserQuorumHeal:
            if e.voucherCount > 0 { violate(.safety, i, "accuser-quorum heal with \(e.voucherCount) fresh voucher(s)") }
            if e.accuserCount < e.quorum {
                violate(.safety, i, "accuser-quorum heal with \(e.accuserCount) accuser(s) < quorum \(e.quorum)")
            }
        case .isolationHeal:
            let window = settings.effectiveIsolationWindow(memberCount: n)
            if let ms = e.millisSinceAnyPeerHeard, ms < window.millisecondsClamped {
                violate(.safety, i, "isolation heal \(ms) ms after hearing a peer (window \(window))")
            }
        default:
            return
        }
        if e.healingAheadCount >= e.concurrentHealLimit {
            violate(.safety, i, "heal with \(e.healingAheadCount) peer(s) healing ahead, limit \(e.concurrentHealLimit)")
        }
    }

    // MARK: Safety: accepted datagrams

    func onAccepted(receiver i: Int, _ sent: SentDatagram, _ accepted: AcceptedViews, tag: UInt8) {
        var counts = (injected: 0, afterRestart: 0)
        recordAccepted(receiver: i, sent, accepted, tag: tag, counts: &counts) { violate($0, i, $1) }
        result.injectedAccepted += counts.injected
        result.acceptedAfterRestart += counts.afterRestart
    }

    /// The checks of an accepted datagram. Touches only receiver `i`'s rows of the checker (so the
    /// parallel engine runs it on `i`'s thread); counts go to `counts`, violations to `violation`.
    @inline(__always)
    func recordAccepted(
        receiver i: Int, _ sent: SentDatagram, _ accepted: AcceptedViews, tag: UInt8, counts: inout (injected: Int, afterRestart: Int),
        violation: (Violation.Kind, String) -> Void
    ) {
        if tag == Tag.forged {
            violation(.safety, "accepted a datagram forged by a non-member claiming \(Scenario.nodeName(sent.origin(0).int))")
        }
        if tag != Tag.normal {
            counts.injected += 1
            if check.restarted[i] { counts.afterRestart += 1 }
        }
        if check.lastAccepted[i].isEmpty, graph.isFullMesh {
            check.lastAccepted[i] = Array(repeating: ViewVersion(incarnation: 0, sequence: 0), count: n)
        }
        // The sender's view, then the accepted relayed ones, in datagram order.
        var rest = accepted.bits
        while rest != 0 {
            let k = rest.trailingZeroBitCount
            rest &= rest - 1
            accept(receiver: i, sent.origin(k).int, sent.version(k), violation)
        }
    }

    @inline(__always)
    private func accept(receiver i: Int, _ o: Int, _ version: ViewVersion, _ violation: (Violation.Kind, String) -> Void) {
        if o == i { violation(.safety, "accepted its own view back") }
        if graph.isFullMesh {
            let last = check.lastAccepted[i][o]
            if version <= last {
                violation(.safety, "accepted view \(version) of \(Scenario.nodeName(o)) not newer than"
                    + " \(last) already accepted (replay)")
            } else {
                check.lastAccepted[i][o] = version
            }
        } else if let last = cells.raise(i, o, to: version) {
            violation(.safety, "accepted view \(version) of \(Scenario.nodeName(o)) not newer than"
                + " \(last) already accepted (replay)")
        }
    }

    // MARK: Liveness

    func onWedged(_ i: Int, mode: WedgeMode) {
        if check.firstWedgeAt[i] == nil { check.firstWedgeAt[i] = now }
        check.obligations.removeAll { $0.node == i }
        if mode == .tx || settings.isolationPolicy == .heal {
            pruneHealing()
            // A heal of another member that was announced within the freshness window may still hold this one back.
            let recent = check.healStarts.indices.contains { m in
                m != i && (check.healStarts[m].last.map { now - $0 < settings.effectiveViewFreshness(memberCount: n).nanosecondsClamped * 2 } ?? false)
            }
            check.obligations.append(Obligation(
                node: i, mode: mode, wedgedAt: now, clockStart: now, peerHealingSeen: recent || !check.healing.isEmpty))
        }
    }

    func onUnwedged(_ i: Int) { check.obligations.removeAll { $0.node == i } }

    /// The bound from "wedged and eligible" to the heal order: docs/design.md §13 L1/L2 at the
    /// scenario's settings, plus network slack (docs/simulation.md, "What is checked").
    /// `boundFor(o)`, computed once per (mode, extra freshness): it is asked after every event while a
    /// wedge is pending, and depends on nothing else that changes during a run.
    func livenessBound(_ o: Obligation) -> Int64 {
        let mode: Int
        switch o.mode {
        case .both: mode = 0
        case .rx: mode = 1
        case .tx: mode = 2
        }
        let key = mode * 2 + (o.peerHealingSeen || o.staleVoucherPossible ? 1 : 0)
        if let bound = check.boundCache[key] { return bound }
        let bound = boundFor(o)
        check.boundCache[key] = bound
        return bound
    }

    private func boundFor(_ o: Obligation) -> Int64 {
        let s = settings
        let g = s.gossipInterval.nanosecondsClamped
        // One tick to enter `waiting`, then the dwell, which ends on a tick.
        let decide = tick + max(s.healIntentDwell.nanosecondsClamped, tick)
        let probeDetect = Int64(s.failureRounds + 1) * s.probeInterval.nanosecondsClamped + s.probeTimeout.nanosecondsClamped
        var slack: Int64 = 250_000_000 + 4 * scenario.network.latencyMean.nanosecondsClamped
        let freshness = s.effectiveViewFreshness(memberCount: n).nanosecondsClamped
        if scenario.network.loss > 0 || scenario.network.reorder > 0 { slack += freshness }
        if o.peerHealingSeen || o.staleVoucherPossible { slack += freshness }
        switch o.mode {
        case .both, .rx:
            return max(s.effectiveIsolationWindow(memberCount: n).nanosecondsClamped, probeDetect) + decide + slack
        case .tx:
            let rounds = Int64(s.gossipRoundsPerCycle(memberCount: n))
            let silence = s.effectivePeerSilenceTimeout(memberCount: n).nanosecondsClamped
            return max(probeDetect, silence + (2 * rounds - 1) * g) + decide + slack
        }
    }

    func checkLiveness() {
        guard !check.obligations.isEmpty else { return }
        var k = 0
        while k < check.obligations.count {
            var o = check.obligations[k]
            let ok = eligible(&o)
            check.obligations[k] = o
            if !ok {
                check.obligations[k].clockStart = now
            } else if now - o.clockStart > livenessBound(o) {
                violate(.liveness, o.node, "wedged (\(o.mode.rawValue)) since \(SimDuration.seconds(o.wedgedAt)) and not healed within"
                    + " \(SimDuration.seconds(livenessBound(o))) of becoming eligible at \(SimDuration.seconds(o.clockStart))")
                check.obligations.remove(at: k)
                continue
            }
            k += 1
        }
    }

    /// The node may be expected to heal now: its agent runs, no heal of its own is running or settling,
    /// pacing allows one, no other heal is in progress, and (tx wedge) a quorum of healthy accusers can reach it.
    func eligible(_ o: inout Obligation) -> Bool {
        let i = o.node
        guard running[i], pacingIdle(i), !healDown[i] else { return false }
        if let last = check.healStarts[i].last, now - last < check.minHealIntervalNanos { return false }
        let window = check.healBudgetWindowNanos
        if check.healStarts[i].lazy.filter({ $0 > self.now - window }).count >= settings.maxHealsPerWindow { return false }
        if let until = persisted[i]?.backoffUntil, until.nanoseconds &- persistedOffset[i] > now { return false }
        pruneHealing()
        if check.healing.contains(where: { $0 != i }) {
            o.peerHealingSeen = true
            return false
        }
        if o.mode == .tx {
            var heard = 0
            var healthy = 0
            for m in 0..<n where m != i && running[m] && ifaceTx(m) && !blocked(m, i) && params(m, i).loss < 0.5 {
                heard += 1
                if upstreamOK(m) && ifaceRx(m) { healthy += 1 }
            }
            let quorum = max(settings.accuserQuorumMinimum, Int(settings.accuserQuorumFraction * Double(heard)) + 1)
            if heard == 0 || healthy < quorum || healthy < heard { return false }
            // A peer it no longer hears (its sends die) may hold a pre-fault voucher view, fresh for up to F.
            if heard < n - 1 { o.staleVoucherPossible = true }
        }
        return true
    }

    // MARK: Expectations

    func evaluateExpectations() {
        for e in scenario.expectations {
            let at = "\(scenario.source):\(e.line): `\(e.text)`"
            switch e.kind {
            case .heals(let set, let cmp, let bound, let within):
                let members = set?.members ?? [Int](0..<n)
                func count(_ i: Int) -> (Int, Int) {
                    let all = result.heals.filter { $0.node == i }
                    guard let within else { return (all.count, all.count) }
                    guard let w = check.firstWedgeAt[i] else { return (0, all.count) }
                    let d = within.nanosecondsClamped
                    return (all.filter { $0.at >= w && $0.at - w <= d }.count, all.count)
                }
                if set == nil {
                    let total = result.heals.count
                    if !cmp.holds(total, bound) {
                        violate(total < bound ? .liveness : .safety, nil, "expectation \(at) failed: \(total) heal(s) in the fleet")
                    }
                } else {
                    for i in members {
                        let (inWindow, total) = count(i)
                        let extra = within != nil && cmp != .atLeast && total != inWindow
                        if !cmp.holds(inWindow, bound) || extra {
                            violate(inWindow < bound ? .liveness : .safety, i,
                                "expectation \(at) failed: \(inWindow) heal(s) in the window, \(total) in all")
                        }
                    }
                }
            case .noHeal(let except):
                let bad = result.heals.filter { !(except?.members.contains($0.node) ?? false) }
                if let first = bad.first {
                    violate(.safety, first.node, "expectation \(at) failed: \(bad.count) heal(s), first at"
                        + " \(SimDuration.seconds(first.at)) (\(first.rule.id)): \(first.reason)")
                }
            case .atMostPerNode(let bound, let window):
                let w = window.nanosecondsClamped
                for i in 0..<n {
                    let starts = result.heals.filter { $0.node == i }.map(\.at)
                    for (k, t) in starts.enumerated() where starts[k...].prefix(while: { $0 < t + w }).count > bound {
                        violate(.safety, i, "expectation \(at) failed: more than \(bound) heal(s) within"
                            + " \(SimDuration.format(window)) starting at \(SimDuration.seconds(t))")
                        break
                    }
                }
            case .rejected(let reason, let bound):
                let got = rejectedCounts[reason] ?? 0
                if got < bound { violate(.safety, nil, "expectation \(at) failed: \(got) datagram(s) rejected as \(reason)") }
            }
        }
    }
}
