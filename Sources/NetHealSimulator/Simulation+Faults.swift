import NetHealCore
import NetHealWire

/// One step of the fault timeline: a fault starts, ends, or (flapping) toggles.
struct FaultAction {
    enum Kind { case start, end, flap(down: Bool) }
    var at: Int64
    var fault: Int
    var kind: Kind
}

/// Applying the scenario's fault timeline.
extension Simulation {
    func scheduleFaults() {
        var list: [FaultAction] = []
        let end = scenario.duration.nanosecondsClamped
        for (k, f) in scenario.faults.enumerated() {
            let at = f.at.nanosecondsClamped
            let until = f.duration.map { at + $0.nanosecondsClamped }
            if let period = Self.flapPeriod(f.fault) {
                let half = max(1, period.nanosecondsClamped / 2)
                let stop = min(until ?? end, end)
                var t = at
                var down = true
                while t < stop {
                    list.append(FaultAction(at: t, fault: k, kind: .flap(down: down)))
                    down.toggle()
                    t += half
                }
                list.append(FaultAction(at: stop, fault: k, kind: .flap(down: false)))
            } else {
                list.append(FaultAction(at: at, fault: k, kind: .start))
                if let until, !isCrash(f.fault) { list.append(FaultAction(at: until, fault: k, kind: .end)) }
            }
            result.faults.append(FaultMark(at: at, until: until, nodes: involved(f.fault), label: f.text))
        }
        // Stable order: by time, then timeline order (starts and ends as listed).
        list = list.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        actions = list
        for (k, a) in list.enumerated() { queue.push(at: a.at, .fault(k)) }
    }

    static func flapPeriod(_ f: Fault) -> Duration? {
        switch f {
        case .flap(_, _, let p), .flapLink(_, _, let p): return p
        default: return nil
        }
    }

    private func isCrash(_ f: Fault) -> Bool {
        if case .crash = f { return true }
        return false
    }

    func involved(_ f: Fault) -> [Int] {
        switch f {
        case .wedge(let s, _, _), .unwedge(let s), .upstreamOutage(let s), .uplinkLoss(let s), .flap(let s, _, _),
            .crash(let s, _), .skew(let s, _):
            return s.members
        case .replay(_, let to, _, _), .forge(_, let to): return to.members
        case .link(let a, let b, _), .flapLink(let a, let b, _): return a.members + b.members
        case .partition(let shape):
            switch shape {
            case .groups(let g): return g.flatMap(\.members)
            case .oneWay(let a, let b): return a.members + b.members
            case .isolate(let s): return s.members
            case .bridge(let a, let b, _): return a.members + b.members
            case .ring, .random: return Array(0..<n)
            }
        case .healNetwork: return Array(0..<n)
        }
    }

    func apply(_ action: FaultAction) throws {
        let timed = scenario.faults[action.fault]
        let tag = action.fault
        let lasting = timed.duration?.nanosecondsClamped
        switch (timed.fault, action.kind) {
        case (.wedge(let set, let mode, let hard), .start):
            let bits: UInt8 = (mode == .tx ? 1 : mode == .rx ? 2 : 3) | (hard ? 4 : 0)
            for i in set.members {
                if wedge[i] == 0 { wedgeSince[i] = now }
                wedge[i] = bits
                truthChanged(i)
                onWedged(i, mode: mode)
            }
        case (.wedge(let set, _, _), .end), (.unwedge(let set), .start):
            for i in set.members {
                wedge[i] = 0
                truthChanged(i)
                onUnwedged(i)
            }
        case (.upstreamOutage(let set), .start):
            for i in set.members { upstreamDown[i] += 1; truthChanged(i) }
        case (.upstreamOutage(let set), .end):
            for i in set.members { upstreamDown[i] -= 1; truthChanged(i) }
        case (.uplinkLoss(let set), .start):
            for i in set.members { upstreamDown[i] += 1; truthChanged(i) }
            let rest = (0..<n).filter { !set.members.contains($0) }
            addCut(tag: tag, from: set.members, to: rest)
            addCut(tag: tag, from: rest, to: set.members)
        case (.uplinkLoss(let set), .end):
            for i in set.members { upstreamDown[i] -= 1; truthChanged(i) }
            removeCuts(tag: tag)
        case (.partition(let shape), .start):
            _ = partition(shape, tag: tag)
        case (.partition, .end):
            removeCuts(tag: tag)
        case (.healNetwork, _):
            for i in 0..<n where touchedByCut(i) { lastCutTouch[i] = now }
            cuts = []
            linkRules = []
        case (.link(let from, let to, let params), .start):
            linkRules.append(LinkRule(tag: tag, from: mask(from.members), to: mask(to.members), params: params))
            for i in from.members + to.members { lastCutTouch[i] = now }
        case (.link(let from, let to, _), .end):
            linkRules.removeAll { $0.tag == tag }
            for i in from.members + to.members { lastCutTouch[i] = now }
        case (.flap(let set, let upstream, _), .flap(let down)):
            for i in set.members {
                if upstream { upstreamFlap[i] = down } else { flapDown[i] = down }
                truthChanged(i)
            }
        case (.flapLink(let a, let b, _), .flap(let down)):
            removeCuts(tag: tag)
            if down {
                addCut(tag: tag, from: a.members, to: b.members)
                addCut(tag: tag, from: b.members, to: a.members)
            }
        case (.crash(let set, let whenHealing), .start):
            for i in set.members {
                if whenHealing { crashArmed[i] = lasting ?? 5_000_000_000 } else { crash(i, restartAfter: lasting ?? 5_000_000_000) }
            }
        case (.skew(let set, let millis), .start):
            for i in set.members { skewMillis[i] = millis }
        case (.skew(let set, _), .end):
            for i in set.members { skewMillis[i] = 0 }
        case (.replay(let from, let to, let count, let stale), .start):
            for f in from.members {
                let pool = capturedPool(f)
                let chosen = stale ? Array(pool.prefix(count)) : Array(pool.suffix(count))
                let datagrams = chosen.map { SentDatagram($0, decoder: decoder) }
                for t in to.members where t != f {
                    for d in datagrams { queue.push(at: now + 1_000_000, .deliver(to: t, datagram: d, tag: Tag.replay)) }
                }
            }
        case (.forge(let from, let to), .start):
            for f in from.members {
                let datagram = SentDatagram(try forged(claiming: f), decoder: decoder)
                for t in to.members where t != f {
                    queue.push(at: now + 1_000_000, .deliver(to: t, datagram: datagram, tag: Tag.forged))
                }
            }
        default:
            break
        }
    }

    func removeCuts(tag: Int) {
        for c in cuts where c.tag == tag {
            for i in 0..<n where c.ring > 0 || c.from[i] || c.to[i] { lastCutTouch[i] = now }
        }
        cuts.removeAll { $0.tag == tag }
    }

    /// A datagram claiming to come from member `f`, newer than anything `f` sent, accusing every member,
    /// signed by a key that is not in the roster.
    func forged(claiming f: Int) throws -> [UInt8] {
        var members = roster.members
        members[f].publicKey = forger.publicKey
        let fake = DatagramEncoder(roster: ClusterRoster(clusterID: roster.clusterID, members: members))
        let reach = (0..<n).map { $0 == f ? Reach.isSelf : Reach.unreachable }
        let view = ReachabilityView(
            origin: MemberIndex(f), incarnation: incarnation[f] + 1, sequence: 1,
            originTimeMillis: UInt64(1_700_000_000_000 + now / 1_000_000), configDigest: configDigest,
            upstream: .up, decision: .healthy, reach: reach)
        do {
            return try fake.encode(view, signer: forger).bytes
        } catch {
            throw SimulationCrash(description: "could not build the forged datagram: \(error)")
        }
    }
}
