import Foundation
import NetHealCore
import NetHealWire

/// A directional cut: datagrams from a member of `from` to a member of `to` are dropped (or a ring).
struct Cut {
    var tag: Int
    var from: [Bool]
    var to: [Bool]
    /// Majority ring: blocks pairs farther apart than `ring` on the ring (0 = not a ring).
    var ring = 0
}

/// Link behaviour between two sets, replacing the default network.
struct LinkRule {
    var tag: Int
    var from: [Bool]
    var to: [Bool]
    var params: LinkParams
}

/// The simulated network: sending signed datagrams, partitions, loss, duplication, reordering.
extension Simulation {
    func send(_ i: Int, _ content: ViewContent, to targets: [MemberIndex], relay: [MemberIndex]) throws {
        guard let sent = try makeDatagram(i, content, relay: relay, now: now) else { return }
        if prefetching, let last = relay.last, let c = cells.cell(i, last.int) {
            // Where node `i`'s next relays are likely to start (`prefetchNextTick`).
            relayNext[i] = Int32(c - cells.rowStart(i) + 1)
        }
        for t in targets { transmit(from: i, to: t.int, sent, tag: Tag.normal) }
    }

    /// Node `i`'s signed datagram of `content` relaying `relay`, at `now`; nil when its interface cannot
    /// send. Touches only node `i`'s state (the parallel engine calls it on `i`'s thread).
    func makeDatagram(_ i: Int, _ content: ViewContent, relay: [MemberIndex], now: Int64) throws -> SentDatagram? {
        guard ifaceTx(i) else { return nil }
        sequence[i] += 1
        let wall = UInt64(1_700_000_000_000 + now / 1_000_000 + skewMillis[i])
        let view = content.view(
            origin: MemberIndex(i), incarnation: incarnation[i], sequence: sequence[i], originTimeMillis: wall,
            configDigest: configDigest)
        // Room for one more: the encoder puts the sender's view in front of the relayed ones in place.
        var relayed: [SignedView] = []
        relayed.reserveCapacity(relay.count + 1)
        for origin in relay {
            if let view = keptView(i, origin.rawValue) { relayed.append(view) }
        }
        let made: ParsedEncodedDatagram
        do {
            made = try encoder.encodeParsed(view, signer: signers[i], relaying: consume relayed)
        } catch {
            throw SimulationCrash(description: "encoder refused \(Scenario.nodeName(i))'s view: \(error)")
        }
        if capturesSent[i] { capture(i, made.bytes) }
        guard let verifying else { return SentDatagram(made) }
        // An answer taken ahead was refuted: the run is discarded anyway, stop it here.
        if verifier?.refuted == true { throw VerifyAheadRefuted() }
        // The verifying thread checks the sender's signature while the events before its first delivery run.
        let check = verifying.makeCheck(signedView: made.parsed.views[0].bytes, publicKey: roster.members[i].publicKey)
        return SentDatagram(made, ahead: verifying.submit(check) ? check : nil)
    }

    /// One datagram on the link i → t: partition, loss, latency, reordering, duplication.
    func transmit(from i: Int, to t: Int, _ datagram: SentDatagram, tag: UInt8) {
        result.datagramsSent += 1
        result.gossipBytes += datagram.bytes.count
        if blocked(i, t) { return }
        let p = params(i, t)
        if netRng.chance(p.loss) { return }
        // What the delivery will read first (`Simulation+Prefetch.swift`): the receiver's cell for the sender.
        let hint = prefetching ? PrefetchHint.delivery(to: t, cell: cells.cell(t, i)) : 0
        let object = UInt(bitPattern: Unmanaged.passUnretained(datagram).toOpaque())
        queue.push(at: now + latency(p), .deliver(to: t, datagram: datagram, tag: tag), hint: hint, object: object)
        if netRng.chance(p.duplicate) {
            queue.push(at: now + latency(p), .deliver(to: t, datagram: datagram, tag: tag), hint: hint, object: object)
        }
    }

    func latency(_ p: LinkParams) -> Int64 {
        // The default network's bounds converted once (a `Duration` to nanoseconds is a 128-bit division).
        let (lo, mean) =
            p.latencyMin == defaultLatency.min && p.latencyMean == defaultLatency.mean
            ? defaultLatency.ns : (p.latencyMin.nanosecondsClamped, p.latencyMean.nanosecondsClamped)
        var d = lo
        if mean > lo { d += Int64(-log(max(1e-12, 1 - netRng.unit())) * Double(mean - lo)) }
        if netRng.chance(p.reorder) { d += Int64(netRng.unit() * Double(4 * max(mean, 1_000_000))) }
        return d
    }

    func blocked(_ a: Int, _ b: Int) -> Bool {
        for c in cuts {
            if c.ring > 0 {
                let d = abs(a - b)
                if min(d, n - d) > c.ring { return true }
            } else if c.from[a], c.to[b] {
                return true
            }
        }
        return false
    }

    func params(_ a: Int, _ b: Int) -> LinkParams {
        var k = linkRules.count - 1
        while k >= 0 {
            if linkRules[k].from[a], linkRules[k].to[b] { return linkRules[k].params }
            k -= 1
        }
        return scenario.network
    }

    /// Node `i` is affected by a cut or a lossy link rule right now.
    func touchedByCut(_ i: Int) -> Bool {
        for c in cuts where c.ring > 0 || c.from[i] || c.to[i] { return true }
        for r in linkRules where (r.from[i] || r.to[i]) && r.params.loss >= 0.5 { return true }
        return false
    }

    func mask(_ members: [Int]) -> [Bool] {
        var m = [Bool](repeating: false, count: n)
        for i in members { m[i] = true }
        return m
    }

    func addCut(tag: Int, from: [Int], to: [Int]) {
        guard !from.isEmpty, !to.isEmpty else { return }
        cuts.append(Cut(tag: tag, from: mask(from), to: mask(to)))
        for i in from + to { lastCutTouch[i] = now }
    }

    /// Installs a partition shape under `tag`; returns the members it involves (for the report).
    func partition(_ shape: PartitionShape, tag: Int) -> [Int] {
        let all = Array(0..<n)
        switch shape {
        case .groups(let groups):
            for a in groups.indices {
                for b in groups.indices where a != b { addCut(tag: tag, from: groups[a].members, to: groups[b].members) }
            }
            return groups.flatMap(\.members)
        case .oneWay(let from, let to):
            addCut(tag: tag, from: from.members, to: to.members)
            return from.members + to.members
        case .isolate(let set):
            let rest = all.filter { !set.members.contains($0) }
            addCut(tag: tag, from: set.members, to: rest)
            addCut(tag: tag, from: rest, to: set.members)
            return set.members
        case .bridge(let a, let b, let via):
            let left = a.members.filter { !via.members.contains($0) }
            let right = b.members.filter { !via.members.contains($0) }
            addCut(tag: tag, from: left, to: right)
            addCut(tag: tag, from: right, to: left)
            return left + right
        case .ring:
            let k = max(1, (n / 2 + 1) / 2)
            cuts.append(Cut(tag: tag, from: [], to: [], ring: k))
            for i in all { lastCutTouch[i] = now }
            return all
        case .random:
            guard n >= 2 else { return [] }
            var order = all
            var j = n - 1
            while j > 0 {
                order.swapAt(j, Int(faultRng.next() % UInt64(j + 1)))
                j -= 1
            }
            let cut = 1 + Int(faultRng.next() % UInt64(n - 1))
            let left = Array(order[..<cut]).sorted()
            let right = Array(order[cut...]).sorted()
            addCut(tag: tag, from: left, to: right)
            addCut(tag: tag, from: right, to: left)
            return all
        }
    }
}
