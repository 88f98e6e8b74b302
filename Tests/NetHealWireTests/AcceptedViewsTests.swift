import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// `acceptedViews` (the simulator's non-materialising phase 2) accepts exactly what `decode` accepts and
/// leaves the same watermarks; `knownValid` only skips verifications whose answer is already known.
@Suite struct AcceptedViewsTests {
    /// Counts verifications (reference type: the decoder holds it as an existential).
    final class CountingVerifier: SignatureVerifier, @unchecked Sendable {
        let inner = Ed25519Verifier()
        var calls = 0
        func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
            calls += 1
            return inner.verify(signature: signature, message: message, publicKey: publicKey)
        }
    }

    let base: TwoPhaseDecodeTests

    init() throws { base = try TwoPhaseDecodeTests() }

    @Test func acceptedViewsEqualsDecode() throws {
        let decoder = base.decoder
        var cases = 0
        for (name, bytes) in try base.corpus() {
            guard case .success(let parsed) = decoder.parse(bytes) else { continue }
            for (state, marks) in base.receivers() {
                var byDecode = marks
                let expected = decoder.decode(bytes, watermarks: &byDecode)
                var byMask = marks
                var known: UInt64 = 0
                let got = decoder.acceptedViews(parsed, watermarks: &byMask, knownValid: &known)
                #expect(byMask == byDecode, "\(name) at a \(state) receiver: watermarks differ")
                switch (got, expected) {
                case (.success(let accepted), .success(let decoded)):
                    let origins = (0..<parsed.viewCount).filter { accepted.contains($0) }.map { parsed.version(at: $0).origin }
                    #expect(origins == decoded.views.map(\.origin), "\(name) at a \(state) receiver")
                    #expect(accepted.skippedRelayed == decoded.skippedRelayed)
                    #expect(known & accepted.bits == accepted.bits, "every accepted view was verified")
                    cases += 1
                case (.failure(let a), .failure(let b)):
                    #expect(a == b, "\(name) at a \(state) receiver")
                default:
                    Issue.record("\(name) at a \(state) receiver: \(got) vs \(expected)")
                }
            }
        }
        #expect(cases >= 5)
    }

    @Test func knownValidSkipsOnlyRepeatedVerifications() throws {
        let fleet = try TestFleet(size: 6)
        let counting = CountingVerifier()
        let decoder = DatagramDecoder(roster: fleet.roster, verifier: counting)
        let relayed = try fleet.signed(fleet.view(of: 2, incarnation: 3, sequence: 7))
        let bytes = try fleet.datagram(fleet.view(of: 1, incarnation: 4, sequence: 21), relaying: [relayed]).bytes
        let parsed = try decoder.parse(bytes).get()
        var known: UInt64 = 0
        var first = fleet.emptyWatermarks
        #expect(try decoder.acceptedViews(parsed, watermarks: &first, knownValid: &known).get().bits == 0b11)
        #expect(counting.calls == 2 && known == 0b11)
        // A second receiver sharing the parse and what it learnt: same acceptance, no verification.
        var second = fleet.emptyWatermarks
        #expect(try decoder.acceptedViews(parsed, watermarks: &second, knownValid: &known).get().bits == 0b11)
        #expect(counting.calls == 2)
        #expect(second == first)
        // A tampered copy is different bytes: a fresh parse and knownValid 0 verify again and reject.
        var tampered = bytes
        tampered[tampered.count - 1] ^= 1
        var third = fleet.emptyWatermarks
        var none: UInt64 = 0
        let result = decoder.acceptedViews(try decoder.parse(tampered).get(), watermarks: &third, knownValid: &none)
        #expect(result.failure == .badSignature(origin: MemberIndex(2)))
        #expect(third == fleet.emptyWatermarks)
    }

    @Test func neighbourhoodWatermarkSlotsBehaveLikeTheMap() {
        let v = { (i: UInt64, s: UInt64) in ViewVersion(incarnation: i, sequence: s) }
        var marks = ViewWatermarks(neighbors: [MemberIndex(4), MemberIndex(1), MemberIndex(2)])
        marks.pin(MemberIndex(0))
        marks.advance(MemberIndex(2), to: v(1, 5))
        marks.advance(MemberIndex(2), to: v(1, 3))  // never lowered
        marks.advance(MemberIndex(5), to: v(2, 1))  // not a neighbour: kept aside
        #expect(marks[MemberIndex(2)] == v(1, 5))
        #expect(marks[MemberIndex(5)] == v(2, 1))
        #expect(marks[MemberIndex(0)] == ViewWatermarks.pinnedVersion)
        #expect(marks[MemberIndex(1)] == nil && marks[MemberIndex(3)] == nil)
        var narrowed = marks
        narrowed.wantRelayed(from: [MemberIndex(2)])
        for m in 0..<6 {
            for version in [v(0, 0), v(1, 5), v(1, 6), v(3, 0)] {
                for w in [marks, narrowed] {
                    let member = MemberIndex(m)
                    #expect(w.wantsNewRelayed(version, from: member) == (w.wantsRelayed(from: member) && w.isNewer(version, than: member)),
                        "member \(m) version \(version)")
                }
            }
        }
        #expect(!marks.wantsRelayed(from: MemberIndex(5)) && marks.wantsRelayed(from: MemberIndex(4)))
        #expect(!narrowed.wantsRelayed(from: MemberIndex(4)) && narrowed.wantsRelayed(from: MemberIndex(2)))
    }

    @Test func callerOwnedSlotsBehaveLikeOwnSlotsAndLiveWhereTheCallerSaid() {
        // The same operations on watermarks with their own slots and with slots 48 bytes apart in a
        // caller's buffer (first filled with garbage: the init clears them) give the same answers, and
        // the caller's buffer holds each neighbour's watermark at its stride.
        let v = { (i: UInt64, s: UInt64) in ViewVersion(incarnation: i, sequence: s) }
        let neighbours = [MemberIndex(7), MemberIndex(2), MemberIndex(9)]
        let stride = 48
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: stride * neighbours.count, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: stride * neighbours.count)
        var own = ViewWatermarks(neighbors: neighbours)
        var external = ViewWatermarks(neighbors: neighbours, slots: ExternalSlotMarks(base: buffer, byteStride: stride))
        var rng = SplitMix64(seed: 5)
        for _ in 0..<500 {
            let member = MemberIndex(Int(rng.next() % 11))
            let version = v(rng.next() % 3, rng.next() % 6)
            #expect(own.isNewer(version, than: member) == external.isNewer(version, than: member))
            #expect(own.wantsNewRelayed(version, from: member) == external.wantsNewRelayed(version, from: member))
            if rng.next() % 2 == 0 {
                own.advance(member, to: version)
                external.advance(member, to: version)
            }
            for m in 0..<11 { #expect(own[MemberIndex(m)] == external[MemberIndex(m)]) }
        }
        // Ascending neighbours 2, 7, 9 are slots 0, 1, 2 of the buffer.
        for (k, member) in [MemberIndex(2), MemberIndex(7), MemberIndex(9)].enumerated() {
            let p = buffer + k * stride
            let stored = v(p.load(as: UInt64.self), p.load(fromByteOffset: 8, as: UInt64.self))
            #expect(stored == (external[member] ?? v(0, 0)))
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
