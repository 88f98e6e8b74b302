import NetHealCore
import NetHealTestKit
import NetHealWire
import Testing

/// A compromised member that jumps its (incarnation, sequence) to the maximum. Watermarks are per origin
/// and only a view signed by the origin's own key moves the origin's watermark, so the liar burns only
/// its OWN version space: the victim and every other member keep being heard; a genuine member that
/// restarts gets a new incarnation, which beats any sequence of the old one.
@Suite struct CompromisedMemberSequenceTests {
    let liar = 4

    @Test func jumpingToTheMaximumSequenceBurnsOnlyTheLiarsOwnSequenceSpace() throws {
        var v = try SignedVictim(size: 5)
        v.sequence[liar] = UInt64.max - 1
        let jump = v.nextView(of: liar) { _ in .unreachable }
        #expect(jump.sequence == .max)
        _ = try #require(try? v.send(jump).get(), "a validly signed view is accepted once")
        #expect(v.marks[MemberIndex(liar)] == ViewVersion(incarnation: 1, sequence: .max))

        // The liar's own later views of this incarnation are replays now.
        v.sequence[liar] = 10
        let after = v.nextView(of: liar)
        guard case .failure(.replayed) = try v.send(after) else {
            Issue.record("a view below the liar's own watermark was accepted")
            return
        }
        // Everybody else is unaffected: ten minutes of normal gossip, all accepted, normal sequences.
        v.rejections = []
        try v.advance(.seconds(600)) { v in
            for peer in 1...3 { try v.send(v.nextView(of: peer)) }
        }
        #expect(v.rejections.isEmpty)
        for peer in 1...3 { #expect(v.marks[MemberIndex(peer)] == ViewVersion(incarnation: 1, sequence: 600)) }
        #expect(v.marks[MemberIndex(0)] == ViewWatermarks.pinnedVersion, "the victim's own mark is its pin, nothing else")
        // ... and the victim's decisions keep using them: three fresh vouchers; the liar's view went stale.
        let evidence = v.core.evidence(now: v.now)
        #expect(evidence.voucherCount == 3)
        #expect(evidence.accuserCount == 0)
        #expect(evidence.silent == ["n\(liar)"])
        #expect(v.heals.isEmpty)
    }

    @Test func aRestartedMemberBeatsAnySequenceWithItsNewIncarnation() throws {
        var v = try SignedVictim(size: 5)
        // Member 2's sequence space is exhausted (the liar jumped, or a bug did).
        v.sequence[2] = UInt64.max - 1
        try v.send(v.nextView(of: 2))
        #expect(v.marks[MemberIndex(2)] == ViewVersion(incarnation: 1, sequence: .max))
        // It restarts: incarnation 2, sequence from 1 — accepted by the wire and absorbed by the core.
        v.incarnation[2] = 2
        v.sequence[2] = 0
        v.now = v.now + .seconds(1)
        let fresh = v.nextView(of: 2) { $0 == 0 ? .unreachable : .reachable }
        _ = try #require(try? v.send(fresh).get())
        #expect(v.marks[MemberIndex(2)] == ViewVersion(incarnation: 2, sequence: 1))
        #expect(v.core.evidence(now: v.now).accusers == ["n2"], "the core holds the new incarnation's view")
    }

    @Test func theLiarCannotMoveAnotherMembersWatermark() throws {
        var v = try SignedVictim(size: 5)
        try v.send(v.nextView(of: 2))
        let before = v.marks
        // A view claiming to be member 2 (or the victim, or member 1 relayed) at the maximum version,
        // signed with the liar's key: the signature check rejects the datagram, no watermark moves.
        let roster = v.fleet.roster
        for claimed in [2, 0] {
            var forgedRoster = roster
            forgedRoster.members[claimed].publicKey = v.fleet.signers[liar].publicKey
            let view = v.fleet.view(
                of: claimed, incarnation: .max, sequence: .max,
                reach: (0..<5).map { $0 == claimed ? .isSelf : .unreachable })
            let bytes = try DatagramEncoder(roster: forgedRoster).encode(view, signer: v.fleet.signers[liar]).bytes
            guard case .failure(let error) = v.deliver(bytes) else {
                Issue.record("a view of member \(claimed) signed by the liar was accepted")
                return
            }
            #expect(error == .badSignature(origin: MemberIndex(claimed)) || error == .replayed(
                origin: MemberIndex(0), version: ViewWatermarks.pinnedVersion, watermark: ViewWatermarks.pinnedVersion))
            #expect(v.marks == before)
        }
        // The same forged view relayed inside the liar's own genuine datagram: the whole datagram is
        // rejected, including the liar's own view (nothing is partially accepted).
        var forgedRoster = roster
        forgedRoster.members[1].publicKey = v.fleet.signers[liar].publicKey
        let forged = try DatagramEncoder(roster: forgedRoster).sign(
            v.fleet.view(of: 1, incarnation: .max, sequence: .max), with: v.fleet.signers[liar])
        let own = v.nextView(of: liar)
        let result = v.deliver(try v.fleet.datagram(own, relaying: [forged]).bytes)
        #expect(result == .failure(.badSignature(origin: MemberIndex(1))))
        #expect(v.marks == before)
        // Member 2's next genuine view is still news.
        _ = try #require(try? v.send(v.nextView(of: 2)).get())
    }

    @Test func theLiarCannotMoveTheVictimsWatermarkAtOtherReceivers() throws {
        // Receiver n1 (a second decoder with its own watermarks) gets the liar's forged view of n0.
        let fleet = try TestFleet(size: 5)
        let decoder = fleet.decoder
        var marksAtN1 = fleet.emptyWatermarks
        marksAtN1.pin(MemberIndex(1))
        var forgedRoster = fleet.roster
        forgedRoster.members[0].publicKey = fleet.signers[liar].publicKey
        let forged = try DatagramEncoder(roster: forgedRoster).encode(
            fleet.view(of: 0, incarnation: .max, sequence: .max), signer: fleet.signers[liar])
        #expect(decoder.decode(forged.bytes, watermarks: &marksAtN1) == .failure(.badSignature(origin: MemberIndex(0))))
        #expect(marksAtN1[MemberIndex(0)] == nil)
        // n0's genuine view at sequence 1 is accepted afterwards.
        let genuine = try fleet.datagram(fleet.view(of: 0, sequence: 1))
        #expect((try? decoder.decode(genuine.bytes, watermarks: &marksAtN1).get()) != nil)
    }

    /// The extreme: the liar jumps to (UInt64.max, UInt64.max). It is accepted once and then nothing of
    /// the liar is ever news again at this receiver (the liar has burned its own identity until the
    /// receiver restarts: watermarks live in memory). Nobody else is affected.
    @Test func jumpingTheIncarnationToTheMaximumSilencesOnlyTheLiar() throws {
        var v = try SignedVictim(size: 5)
        v.incarnation[liar] = .max
        v.sequence[liar] = .max - 1
        _ = try #require(try? v.send(v.nextView(of: liar) { _ in .unreachable }).get())
        #expect(v.marks[MemberIndex(liar)] == ViewWatermarks.pinnedVersion)
        v.incarnation[liar] = 7
        v.sequence[liar] = 0
        guard case .failure(.replayed) = try v.send(v.nextView(of: liar)) else {
            Issue.record("the liar was heard after pinning itself")
            return
        }
        v.rejections = []
        try v.advance(.seconds(60)) { v in
            for peer in 1...3 { try v.send(v.nextView(of: peer)) }
        }
        #expect(v.rejections.isEmpty)
        #expect(v.core.evidence(now: v.now).voucherCount == 3)
        // A restarted receiver (fresh watermarks, a new core) hears the liar's next genuine view again.
        var restarted = try SignedVictim(size: 5)
        restarted.incarnation[liar] = 8
        _ = try #require(try? restarted.send(restarted.nextView(of: liar)).get())
    }
}
