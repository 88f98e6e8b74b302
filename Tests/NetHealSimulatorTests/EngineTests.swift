import NetHealCore
import NetHealWire
import Testing

@testable import NetHealSimulator

/// The engine's fast paths give what the plain ones give: the heap pops in (time, insertion) order and
/// moves payloads without leaking or freeing them twice; a sent datagram's shared views are the views a
/// decode of its bytes gives.
@Suite struct EngineTests {
    final class Payload {
        nonisolated(unsafe) static var alive = 0
        let id: Int
        init(_ id: Int) { self.id = id; Self.alive += 1 }
        deinit { Self.alive -= 1 }
    }

    @Test func heapPopsInTimeThenInsertionOrderAndKeepsPayloadsIntact() {
        var rng = SplitMix64(seed: 7)
        var q = EventQueue<Payload>()
        var pushed: [(time: Int64, id: Int)] = []
        var popped: [(time: Int64, id: Int)] = []
        for id in 0..<5_000 {
            let time = Int64(rng.next() % 300)  // many ties
            q.push(at: time, Payload(id))
            pushed.append((time, id))
            if rng.next() % 3 == 0, let e = q.pop() { popped.append((e.time, e.payload.id)) }
        }
        while let e = q.pop() { popped.append((e.time, e.payload.id)) }
        #expect(Payload.alive == 0, "every payload freed exactly once")
        #expect(popped.count == pushed.count)
        // Interleaved pops: each pop is the smallest (time, id) of what was queued then; check the
        // invariant by replaying against a sorted reference.
        var reference: [(time: Int64, id: Int)] = []
        var rng2 = SplitMix64(seed: 7)
        var out: [(time: Int64, id: Int)] = []
        for id in 0..<5_000 {
            reference.append((Int64(rng2.next() % 300), id))
            if rng2.next() % 3 == 0 {
                let k = reference.indices.min { (reference[$0].time, reference[$0].id) < (reference[$1].time, reference[$1].id) }!
                out.append(reference.remove(at: k))
            }
        }
        out += reference.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        #expect(popped.map(\.id) == out.map(\.id))
    }

    /// Its own live count, apart from `Payload`'s: the two tests may run in parallel.
    final class LanePayload {
        nonisolated(unsafe) static var alive = 0
        let id: Int
        init(_ id: Int) { self.id = id; Self.alive += 1 }
        deinit { Self.alive -= 1 }
    }

    @Test func inOrderLanePopsAsOneHeap() {
        // Mostly-ascending pushes through the lane (some out of order: they go to the heap), mixed with
        // heap pushes and pops, with many ties: the pops are in (time, insertion) order, as with one heap.
        var rng = SplitMix64(seed: 11)
        var q = EventQueue<LanePayload>()
        var reference: [(time: Int64, id: Int)] = []
        var popped: [(time: Int64, id: Int)] = []
        var expected: [(time: Int64, id: Int)] = []
        var clock: Int64 = 0
        for id in 0..<4_000 {
            clock += Int64(rng.next() % 3)
            let time: Int64
            if rng.next() % 2 == 0 {
                time = clock + 40 - Int64(rng.next() % 8 == 0 ? 60 : 0)
                q.pushInOrder(at: time, LanePayload(id))
            } else {
                time = clock + Int64(rng.next() % 50)
                q.push(at: time, LanePayload(id))
            }
            reference.append((time, id))
            if rng.next() % 2 == 0, let e = q.pop() {
                popped.append((e.time, e.payload.id))
                let k = reference.indices.min { (reference[$0].time, reference[$0].id) < (reference[$1].time, reference[$1].id) }!
                expected.append(reference.remove(at: k))
            }
            #expect(q.count == reference.count)
        }
        while let e = q.pop() { popped.append((e.time, e.payload.id)) }
        expected += reference.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        #expect(q.isEmpty && q.peekTime == nil)
        #expect(popped.map(\.id) == expected.map(\.id))
        #expect(LanePayload.alive == 0, "every payload freed exactly once")
    }

    /// Its own live count (the tests may run in parallel).
    final class CalendarPayload {
        nonisolated(unsafe) static var alive = 0
        let id: Int
        init(_ id: Int) { self.id = id; Self.alive += 1 }
        deinit { Self.alive -= 1 }
    }

    @Test func calendarPopsAsOneHeapAtSimulatorTimeScales() {
        // The simulator's mix: deliveries 1–30 ms ahead (calendar buckets of ~1 ms, some in the bucket
        // being drained), probe timeouts and crashes seconds ahead (beyond the calendar: the overflow
        // heap), ticks through the lane, idle stretches, exact ties; each pop checked against a reference.
        var rng = SplitMix64(seed: 23)
        var q = EventQueue<CalendarPayload>()
        var reference: [(time: Int64, id: Int)] = []
        var now: Int64 = 0
        var popped = 0
        for id in 0..<20_000 {
            let time: Int64
            switch rng.next() % 10 {
            case 0: time = now + 1_000_000_000 + Int64(rng.next() % 3) * 1_000_000  // a tick, ties
            case 1: time = now + Int64(rng.next() % 5_000_000_000)  // far ahead
            case 2: time = now + Int64(rng.next() % 100_000)  // within the bucket being drained
            case 3: time = now  // at the current instant
            default: time = now + 1_000_000 + Int64(rng.next() % 30_000_000)
            }
            if rng.next() % 10 == 0 { q.pushInOrder(at: time, CalendarPayload(id)) } else { q.push(at: time, CalendarPayload(id)) }
            reference.append((time, id))
            // Pop a few (sometimes many: the calendar drains and the clock jumps ahead).
            let pops = rng.next() % 50 == 0 ? 200 : Int(rng.next() % 2)
            for _ in 0..<pops {
                guard let e = q.pop() else { break }
                let k = reference.indices.min { (reference[$0].time, reference[$0].id) < (reference[$1].time, reference[$1].id) }!
                let want = reference.remove(at: k)
                #expect(e.time == want.time && e.payload.id == want.id)
                #expect(e.time >= now)
                now = e.time
                popped += 1
            }
            #expect(q.count == reference.count)
            #expect(q.peekTime == reference.map(\.time).min())
        }
        let rest = reference.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        var tail: [Int] = []
        while let e = q.pop() { tail.append(e.payload.id) }
        #expect(tail == rest.map(\.id))
        #expect(popped > 5_000)
        #expect(q.isEmpty && q.peekTime == nil)
        #expect(CalendarPayload.alive == 0, "every payload freed exactly once")
    }

    @Test func sentDatagramViewsAreTheDecodedViews() throws {
        for size in [6, 60] {  // dense views; listed views (neighbourhood mode)
            let sc = try scenario("fleet \(size)\nduration 3s\nsigner fast\n")
            let sim = try Simulation<NodeCore>(scenario: sc)
            try sim.advance(to: s(2.5))
            // Every node's own last view, as a receiver kept it (the content to send again).
            var own: [Int: SignedView] = [:]
            for i in 0..<size {
                for origin in sim.keptOrigins(i) {
                    let kept = try #require(sim.keptView(i, origin))
                    #expect(kept.view.origin.rawValue == origin)
                    own[kept.view.origin.int] = kept
                }
            }
            var checked = 0
            for i in 0..<size {
                guard let mine = own[i] else { continue }
                let relay = sim.keptOrigins(i).prefix(2).map { MemberIndex(rawValue: $0) }
                let content = ViewContent(
                    upstream: mine.view.upstream, decision: mine.view.decision, reach: mine.view.reach,
                    reachSubjects: mine.view.reachSubjects)
                let sent = try #require(try sim.makeDatagram(i, content, relay: relay, now: sim.now))
                let parsed = try #require(sent.parsed)
                let reparsed = try sim.decoder.parse(sent.bytes, materializeViews: false).get()
                #expect(sent.views.count == parsed.viewCount && parsed.viewCount == reparsed.viewCount)
                for v in 0..<reparsed.viewCount {
                    #expect(sent.views[v] == sim.decoder.signedView(reparsed, at: v))
                }
                // The relayed views are the kept ones, and the box a receiver keeps is the sender's view.
                for (v, origin) in relay.enumerated() {
                    #expect(sent.views[1 + v] == sim.keptView(i, origin.rawValue))
                }
                #expect(sent.kept?.view == sent.views[0])
                if !relay.isEmpty { checked += 1 }
            }
            #expect(checked > size / 2, "datagrams with relayed views were checked")
        }
    }
}
