import NetHealCore
import NetHealWire

/// The shell of each simulated node: effects, probes, heal actions, crash and restart, receiving.
extension Simulation {
    static var recentCapacity: Int { 32 }
    static var capturedCapacity: Int { 16 }
    /// Delay between a heal order and the interface going down (the action's process starting), so the
    /// "healing" announcement leaves first, as it does from the agent.
    static var actionStartDelay: Int64 { 10_000_000 }

    /// Performs node `i`'s effects in order. Each is moved out of the (uniquely held) array rather than
    /// copied: a copy retained every array in the effect, and the array's deinit then released them
    /// again through the generic element destroy.
    func perform(_ i: Int, _ effects: consuming [CoreEffect]) throws {
        var effects = effects
        var k = 0
        while k < effects.count {
            let effect = effects.takeEffect(at: k)
            k += 1
            switch effect {
            case .gossip(let content, let to, let relay):
                mix(10, i, UInt64(to.count))
                try send(i, content, to: to, relay: relay)
            case .runProbeRound:
                mix(11, i)
                startProbe(i)
            case .cycleInterface(let order):
                mix(12, i, UInt64(order.step))
                cycleOrdered(i, order)
            case .wouldHeal(let order):
                mix(13, i)
                healOrdered(i, order, dryRun: true)
            case .persist(let pacing):
                persistPacing(i, pacing)
            case .decisionChanged(let record):
                decisionChanged(i, record)
            }
        }
    }

    /// A `persist` effect of node `i`: the pacing state survives a crash of its agent.
    func persistPacing(_ i: Int, _ pacing: PacingState) {
        mix(14, i, UInt64(pacing.history.count))
        persisted[i] = pacing
        persistedOffset[i] = monoOffset[i]
    }

    /// A `decisionChanged` effect of node `i`: mixed into the trace and checked.
    func decisionChanged(_ i: Int, _ record: DecisionRecord) {
        mix(15, i, UInt64(record.state.rawValue))
        checkRecord(i, record)
    }

    /// A `cycleInterface` effect of node `i`: the heal is recorded and checked, its action scheduled.
    func cycleOrdered(_ i: Int, _ order: HealOrder) {
        healOrdered(i, order, dryRun: false)
        queue.push(at: now + Self.actionStartDelay, .healDown(i))
        queue.push(at: now + Self.actionStartDelay + scenario.healDuration.nanosecondsClamped,
            .healUp(i, epoch: epoch[i]))
        if let after = crashArmed[i] {
            crashArmed[i] = nil
            queue.push(at: now + 500_000_000, .crash(i, restartAfter: after))
        }
    }

    func healOrdered(_ i: Int, _ order: HealOrder, dryRun: Bool) {
        let broken = !ifaceWorks(i)
        let heal = SimHeal(
            node: i, at: now, rule: order.rule, reason: order.reason, dryRun: dryRun, justified: broken,
            brokenSince: broken ? wedgeSince[i] ?? ifaceBrokenSince[i] : nil)
        onHealStarted(heal)
        result.heals.append(heal)
    }

    // MARK: Ground truth

    /// The interface sends.
    func ifaceTx(_ i: Int) -> Bool { wedge[i] & 1 == 0 && !healDown[i] && !flapDown[i] }
    /// The interface receives.
    func ifaceRx(_ i: Int) -> Bool { wedge[i] & 2 == 0 && !healDown[i] && !flapDown[i] }
    func ifaceWorks(_ i: Int) -> Bool { ifaceTx(i) && ifaceRx(i) }
    func upstreamOK(_ i: Int) -> Bool { upstreamDown[i] == 0 && !upstreamFlap[i] }

    /// Call after any change of node `i`'s interface or upstream.
    func truthChanged(_ i: Int) {
        let iface = ifaceWorks(i)
        if !iface {
            if ifaceFineSince[i] != .max { ifaceBrokenSince[i] = now }
            ifaceFineSince[i] = .max
            lastDisturbed[i] = now
        } else if ifaceFineSince[i] == .max {
            ifaceFineSince[i] = now
        }
        if !(iface && upstreamOK(i)) { truthFineSince[i] = .max } else if truthFineSince[i] == .max { truthFineSince[i] = now }
        if wedge[i] == 0 { wedgeSince[i] = nil }
    }

    // MARK: Probes

    func startProbe(_ i: Int) {
        let timeout = probeTimeoutNanos
        var outcome: UInt8
        var delay: Int64
        if healDown[i] {
            outcome = 2 | 2 << 4
            delay = 1_000_000
        } else if !ifaceWorks(i) || !upstreamOK(i) {
            outcome = 0
            delay = timeout
        } else {
            let lossA = scenario.upstreamLoss > 0 && probeRng.chance(scenario.upstreamLoss)
            let lossB = scenario.upstreamLoss > 0 && probeRng.chance(scenario.upstreamLoss)
            outcome = (lossA ? 0 : 1) | (lossB ? 0 : 1) << 4
            delay = lossA && lossB ? timeout : 2_000_000
        }
        queue.push(at: now + delay, .probeDone(i, epoch: epoch[i], outcome: outcome), hint: PrefetchHint.node(i))
    }

    // MARK: Crash and restart

    func crash(_ i: Int, restartAfter: Int64) {
        guard running[i] else { return }
        running[i] = false
        result.downtimes.append((i, now, nil))
        epoch[i] &+= 1
        lastDisturbed[i] = now
        onCrashed(i)
        queue.push(at: now + max(1, restartAfter), .restart(i))
    }

    func restart(_ i: Int) throws {
        guard !running[i] else { return }
        if let k = result.downtimes.lastIndex(where: { $0.node == i && $0.to == nil }) { result.downtimes[k].to = now }
        let oldOffset = persistedOffset[i]
        monoOffset[i] = Int64(restartRng.next() % 1_000_000_000_000_000)
        // What the agent does on load: shift stored instants so they keep their wall-clock meaning.
        let pacing = persisted[i]?.rebased(by: .nanoseconds(monoOffset[i] - oldOffset))
        if pacing != nil { persisted[i] = pacing; persistedOffset[i] = monoOffset[i] }
        incarnation[i] += 1
        sequence[i] = 0
        var w = graph.isFullMesh ? ViewWatermarks(memberCount: n) : ViewWatermarks(neighbors: graph.neighbors(of: MemberIndex(i)), slots: cells.watermarkSlots(i))
        w.pin(MemberIndex(i))
        watermarks[i] = w
        forgetKept(i)
        nodes[i] = P(roster: roster, me: MemberIndex(i), settings: settings, pacing: pacing, seed: restartRng.next(), graph: graph)
        running[i] = true
        lastDisturbed[i] = now
        onRestarted(i)
        try feed(i, .started)
        queue.pushInOrder(at: now + tick, .tick(i, epoch: epoch[i]), hint: PrefetchHint.node(i))
    }

    // MARK: Receiving

    func receive(_ i: Int, _ sent: SentDatagram, tag: UInt8) throws {
        guard running[i], ifaceRx(i) else { return }
        if tag != Tag.normal { result.injectedDelivered += 1 }
        // The structural phase ran once when the datagram was made; the rest per recipient.
        guard let parsed = sent.parsed else {
            reject(i, sent.error!)
            return
        }
        // The fast stand-in's verification is pure and not counted: its answer is shared by the recipients.
        let old: UInt64 = verifier == nil ? sent.knownValid : 0
        if let memo = verifier, memo.ahead !== sent.ahead { memo.ahead = sent.ahead }
        var known = old
        let local = Instant(nanoseconds: now &+ monoOffset[i])
        let outcome = acceptedViews(i, parsed, knownValid: &known, local)
        if verifier == nil { sent.learnValid(known, had: old) }
        switch outcome {
        case .failure(let error):
            reject(i, error)
        case .success(let accepted):
            result.datagramsDelivered += 1
            onAccepted(receiver: i, sent, accepted, tag: tag)
            remember(i, sent.origin(0).rawValue, sent)
            // The views are borrowed from the shared datagram (no copy of a view per delivery).
            try deliverView(i, sent.senderReach, direct: true, local)
            try sent.views.withUnsafeBufferPointer { views in
                var rest = accepted.bits & ~1
                while rest != 0 {
                    let k = rest.trailingZeroBitCount
                    rest &= rest - 1
                    try deliverView(i, views[k].view, direct: false, local)
                }
            }
        }
    }

    /// Receiver `i`'s phase of decoding against its own watermarks, with the agent's relay skip rule:
    /// the receiving node's policy judges, on its own clock (a non-escaping closure: no judge type to
    /// instantiate per delivery). Both engines call it.
    @inline(__always)
    func acceptedViews(_ i: Int, _ parsed: ParsedDatagram, knownValid known: inout UInt64, _ local: Instant)
        -> Result<AcceptedViews, WireError>
    {
        decoder.acceptedViews(parsed, watermarks: &watermarks[i], knownValid: &known, receiver: MemberIndex(i)) {
            summary in
            self.nodes[i].judgeRelayedInPlace(
                origin: summary.origin, upstream: summary.upstream, decision: summary.decision,
                reachOfMe: summary.reachOfReceiver, now: local)
        }
    }

    func reject(_ i: Int, _ error: WireError) {
        rejectedCounts[error.reason, default: 0] += 1
        mix(20, i, UInt64(error.reason.utf8.count))
    }

    /// `.viewReceived` for node `i`: straight into the policy when it takes views without effects.
    @inline(__always)
    func deliverView(_ i: Int, _ view: ReachabilityView, direct: Bool, _ local: Instant) throws {
        if !nodes[i].absorbReceived(view, direct: direct, now: local) {
            try feed(i, .viewReceived(view, direct: direct))
        }
    }

    /// Keeps `bytes` as the newest of sender `i`'s captured datagrams (the oldest goes when full).
    func capture(_ i: Int, _ bytes: [UInt8]) {
        capturedRing[i * Self.capturedCapacity + capturedNext[i]] = bytes
        capturedNext[i] = (capturedNext[i] + 1) % Self.capturedCapacity
        capturedCount[i] = min(capturedCount[i] + 1, Self.capturedCapacity)
    }

    /// Sender `i`'s captured datagrams, oldest first.
    func capturedPool(_ i: Int) -> [[UInt8]] {
        let base = i * Self.capturedCapacity
        if capturedCount[i] < Self.capturedCapacity { return (base..<(base + capturedCount[i])).map { capturedRing[$0] } }
        let next = base + capturedNext[i]
        return (next..<(base + Self.capturedCapacity)).map { capturedRing[$0] } + (base..<next).map { capturedRing[$0] }
    }

    /// Keeps the sender's view of `sent` (from `origin`) as node `i`'s latest first-hand view of it:
    /// in its neighbour cell (neighbourhood mode; only neighbours are ever relayed), else in the ring.
    @inline(__always)
    func remember(_ i: Int, _ origin: UInt16, _ sent: SentDatagram) {
        if graph.isFullMesh { rememberInRing(i, origin, sent.kept) } else { cells.keep(i, Int(origin), sent.kept) }
    }

    /// Node `i`'s latest first-hand view of `origin`, if it keeps one.
    @inline(__always)
    func keptView(_ i: Int, _ origin: UInt16) -> SignedView? {
        if graph.isFullMesh {
            guard let k = recentSlot(i, origin) else { return nil }
            return keptViews[k]?.view
        }
        return cells.kept(i, Int(origin))?.view
    }

    /// The origins whose views node `i` keeps (ring order in a full mesh, ascending otherwise).
    func keptOrigins(_ i: Int) -> [UInt16] {
        if graph.isFullMesh {
            let base = i * Self.recentCapacity
            return (base..<(base + recentCount[i])).map { recentOrigins[$0] }
        }
        return cells.keptOrigins(i).map { UInt16($0) }
    }

    /// Node `i` keeps no views (its agent restarted).
    func forgetKept(_ i: Int) {
        if graph.isFullMesh {
            for k in (i * Self.recentCapacity)..<((i + 1) * Self.recentCapacity) { keptViews[k] = nil }
            recentCount[i] = 0
            recentCursor[i] = 0
        } else {
            cells.forgetKept(i)
        }
    }

    /// The ring of a full mesh: the oldest entry goes when full.
    func rememberInRing(_ i: Int, _ origin: UInt16, _ kept: KeptView?) {
        let base = i * Self.recentCapacity
        if let k = recentSlot(i, origin) {
            keptViews[k] = kept
        } else if recentCount[i] < Self.recentCapacity {
            keptViews[base + recentCount[i]] = kept
            recentOrigins[base + recentCount[i]] = origin
            recentCount[i] += 1
        } else {
            keptViews[base + recentCursor[i]] = kept
            recentOrigins[base + recentCursor[i]] = origin
            recentCursor[i] = (recentCursor[i] + 1) % Self.recentCapacity
        }
    }

    /// The flat ring slot of node `i`'s kept view of `origin`, if any (first match, in slot order).
    func recentSlot(_ i: Int, _ origin: UInt16) -> Int? {
        let base = i * Self.recentCapacity
        var k = base
        let end = base + recentCount[i]
        while k < end {
            if recentOrigins[k] == origin { return k }
            k += 1
        }
        return nil
    }
}

extension SplitMix64 {
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(next() >> 11) * 0x1p-53 < p
    }

    /// Uniform in 0 ..< 1.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

extension Array where Element == CoreEffect {
    /// Moves effect `k` out, leaving an effect without payload in its place (so nothing is retained
    /// for the copy and the array's deinit has nothing left to release).
    @inline(__always)
    mutating func takeEffect(at k: Int) -> CoreEffect {
        withUnsafeMutableBufferPointer { b in
            let slot = b.baseAddress! + k
            let effect = slot.move()
            slot.initialize(to: .runProbeRound)
            return effect
        }
    }
}
