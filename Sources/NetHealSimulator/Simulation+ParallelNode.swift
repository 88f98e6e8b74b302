import NetHealCore
import NetHealWire

/// The node-local half of the window-parallel engine (`Simulation+Parallel.swift`): what a chunk runs
/// on whichever thread claimed it. It touches only its nodes' state (policy, watermarks, relay ring,
/// sequence, captures, the checker's per-receiver rows in the chunk's table) and records everything
/// fleet-wide as `ParOp`s for the replay.
extension Simulation {
    /// One node-local event on the thread that claimed its chunk (the node-local half of `process`).
    func parEvent(_ s: ParShard, _ i: Int, _ time: Int64, _ event: Event) throws {
        switch event {
        case .tick(_, let e):
            if e == epoch[i], running[i] {
                try parFeed(s, i, .tick, time)
                s.ops.append(.nextTick(epoch: e))
            }
        case .probeDone(_, let e, let outcome):
            if e == epoch[i], running[i] {
                s.ops.append(.probeAnswered(outcome & 0x0F == 1 || outcome >> 4 == 1))
                try parFeed(s, i, .probeRound(probeRoundResult(outcome)), time)
            }
        case .deliver(_, let datagram, let tag):
            try parReceive(s, i, datagram, tag, time)
        default:
            throw SimulationCrash(description: "parallel engine: a non-local event in a window")
        }
        s.opEnds.append(s.ops.count)
        s.idleAfter.append(trackIdle[i] ? (nodes[i].pacingState?.inProgress == nil ? 1 : 2) : 0)
    }

    /// `feed` for the node's chunk: the policy runs, its effects are recorded or done node-locally.
    func parFeed(_ s: ParShard, _ i: Int, _ input: CoreInput, _ now: Int64) throws {
        var effects = nodes[i].handle(input, now: Instant(nanoseconds: now &+ monoOffset[i]))
        // Moved out, not copied (as in `perform`).
        var k = 0
        while k < effects.count {
            let effect = effects.takeEffect(at: k)
            k += 1
            switch effect {
            case .gossip(let content, let to, let relay):
                let sent = try makeDatagram(i, content, relay: relay, now: now)
                s.ops.append(.gossip(count: to.count, targets: to, sent: sent))
            case .runProbeRound:
                s.ops.append(.probe)
            case .cycleInterface(let order):
                trackIdle[i] = true
                s.ops.append(.heal(order, dryRun: false, idle: nodes[i].pacingState?.inProgress == nil))
            case .wouldHeal(let order):
                trackIdle[i] = true
                s.ops.append(.heal(order, dryRun: true, idle: nodes[i].pacingState?.inProgress == nil))
            case .persist(let pacing):
                s.ops.append(.persist(pacing))
            case .decisionChanged(let record):
                s.ops.append(.decision(record))
            }
        }
    }

    /// `receive` for the receiver's chunk.
    func parReceive(_ s: ParShard, _ i: Int, _ sent: SentDatagram, _ tag: UInt8, _ now: Int64) throws {
        guard running[i], ifaceRx(i) else { return }
        if tag != Tag.normal { s.injectedDelivered += 1 }
        guard let parsed = sent.parsed else {
            s.ops.append(.reject(sent.error!))
            return
        }
        let old = sent.knownValid
        var known = old
        let local = Instant(nanoseconds: now &+ monoOffset[i])
        let outcome = acceptedViews(i, parsed, knownValid: &known, local)
        sent.learnValid(known, had: old)
        switch outcome {
        case .failure(let error):
            s.ops.append(.reject(error))
        case .success(let accepted):
            s.delivered += 1
            var counts = (injected: 0, afterRestart: 0)
            recordAccepted(receiver: i, sent, accepted, tag: tag, counts: &counts) { s.ops.append(.violation($0, $1)) }
            s.injectedAccepted += counts.injected
            s.acceptedAfterRestart += counts.afterRestart
            remember(i, sent.origin(0).rawValue, sent)
            try parDeliverView(s, i, sent.senderReach, direct: true, local, now)
            try sent.views.withUnsafeBufferPointer { views in
                var rest = accepted.bits & ~1
                while rest != 0 {
                    let k = rest.trailingZeroBitCount
                    rest &= rest - 1
                    try parDeliverView(s, i, views[k].view, direct: false, local, now)
                }
            }
        }
    }

    @inline(__always)
    func parDeliverView(_ s: ParShard, _ i: Int, _ view: ReachabilityView, direct: Bool, _ local: Instant, _ now: Int64) throws {
        if !nodes[i].absorbReceived(view, direct: direct, now: local) {
            try parFeed(s, i, .viewReceived(view, direct: direct), now)
        }
    }
}
