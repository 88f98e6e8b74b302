import Foundation
import NetHealCore
import NetHealSodium
import NetHealWire
import Testing

@testable import NetHealSimulator

/// A verifier that says "invalid" to everything, slowly (so that the simulation asks before it is done).
private struct SlowRefuser: SignatureVerifier {
    var delayMicros: UInt32 = 0
    func verify(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey: [UInt8]) -> Bool {
        if delayMicros > 0 { usleep(delayMicros) }
        return false
    }
}

/// The verifying thread (`VerifyAhead.swift`): a check is used only for exactly its inputs, an answer
/// taken ahead is confirmed, a refuted one discards the run, and no result changes.
@Suite struct VerifyAheadTests {
    /// A signed view from a real Ed25519 signer: fields, then the 64-byte signature.
    static func signedView(_ signer: Ed25519Signer, _ fields: [UInt8]) -> [UInt8] {
        var bytes = fields
        _ = signer.appendSignature(to: &bytes)
        return bytes
    }

    static func signer(_ k: UInt8) throws -> Ed25519Signer {
        try Ed25519Signer(seed: [UInt8](repeating: k, count: 32))
    }

    @Test func aCheckMatchesOnlyItsOwnInputs() throws {
        let s = try Self.signer(1)
        let bytes = Self.signedView(s, Array(0..<120))
        let check = AheadCheck(signedView: bytes, publicKey: s.publicKey, verifier: Ed25519Verifier())
        let split = bytes.count - 64
        #expect(check.matches(signature: bytes[split...], message: bytes[..<split], publicKey: s.publicKey))
        var other = bytes
        other[7] ^= 1
        #expect(!check.matches(signature: other[split...], message: other[..<split], publicKey: s.publicKey))
        other = bytes
        other[split + 3] ^= 1
        #expect(!check.matches(signature: other[split...], message: other[..<split], publicKey: s.publicKey))
        #expect(!check.matches(signature: bytes[split...], message: bytes[..<split], publicKey: try Self.signer(2).publicKey))
        #expect(!check.matches(signature: bytes[split...], message: bytes[1..<split], publicKey: s.publicKey))
    }

    @Test func aReadyAnswerIsUsedAndCountedAsComputed() throws {
        let s = try Self.signer(3)
        let bytes = Self.signedView(s, Array(repeating: 9, count: 100))
        let split = bytes.count - 64
        // The refuser computed this check first: the memo must give its answer, not recompute.
        let check = AheadCheck(signedView: bytes, publicKey: s.publicKey, verifier: SlowRefuser())
        #expect(check.computeIfUnclaimed())
        #expect(check.settled == false)
        let memo = CachingVerifier(Ed25519Verifier())
        memo.ahead = check
        #expect(!memo.verify(signature: bytes[split...], message: bytes[..<split], publicKey: s.publicKey))
        #expect(memo.computed == 1 && memo.answeredAhead == 1 && memo.speculated == 0)
        #expect(memo.confirmAll())
        // Inputs that differ from the check's are verified inline (libsodium: valid).
        let other = Self.signedView(s, Array(repeating: 8, count: 100))
        #expect(memo.verify(signature: other[split...], message: other[..<split], publicKey: s.publicKey))
        #expect(memo.computed == 2 && memo.answeredAhead == 1)
    }

    @Test func anAnswerTakenAheadIsConfirmedAndARefutationIsCaught() throws {
        let s = try Self.signer(4)
        let bytes = Self.signedView(s, Array(repeating: 5, count: 90))
        let split = bytes.count - 64
        let memo = CachingVerifier(Ed25519Verifier())
        // Nobody has computed the check yet: it is taken as valid now.
        let good = AheadCheck(signedView: bytes, publicKey: s.publicKey, verifier: Ed25519Verifier())
        memo.ahead = good
        #expect(memo.verify(signature: bytes[split...], message: bytes[..<split], publicKey: s.publicKey))
        #expect(memo.speculated == 1 && good.settled == nil)
        // Confirming computes it (here, since no thread took it): libsodium agrees.
        #expect(memo.confirmAll() && good.settled == true && !memo.refuted)
        // A check whose computation says "invalid" after it was taken as valid refutes the run.
        let memo2 = CachingVerifier(Ed25519Verifier())
        let bad = AheadCheck(signedView: bytes, publicKey: s.publicKey, verifier: SlowRefuser())
        memo2.ahead = bad
        #expect(memo2.verify(signature: bytes[split...], message: bytes[..<split], publicKey: s.publicKey))
        #expect(bad.computeIfUnclaimed() && bad.settled == false)
        memo2.confirmSettled()
        #expect(memo2.refuted)
        #expect(!memo2.confirmAll())
    }

    @Test func theThreadComputesWhatLibsodiumSays() throws {
        let worker = VerifyAheadWorker(verifier: Ed25519Verifier())
        worker.start()
        defer { worker.stop() }
        let a = try Self.signer(5)
        let b = try Self.signer(6)
        var checks: [(AheadCheck, Bool)] = []
        for k in 0..<200 {
            var bytes = Self.signedView(a, Array(repeating: UInt8(k), count: 80))
            // Every third: the signature damaged; every fifth: the wrong key.
            if k % 3 == 0 { bytes[bytes.count - 10] ^= 0x40 }
            let key = k % 5 == 0 ? b.publicKey : a.publicKey
            let check = worker.makeCheck(signedView: bytes, publicKey: key)
            #expect(worker.submit(check))
            let split = bytes.count - 64
            checks.append((check, Ed25519Verifier().verify(signature: bytes[split...], message: bytes[..<split], publicKey: key)))
        }
        for (check, expected) in checks { #expect(check.answer().valid == expected) }
        #expect(checks.contains { !$0.1 } && checks.contains { $0.1 })
        worker.stop()
        #expect(worker.computedOnWorker > 0 && worker.submitted == 200)
    }

    static let text = """
        scenario verify-ahead
        seed 5
        fleet 24
        duration 120s
        domain rackA n1..n8
        at 20s wedge n3
        at 50s upstream-outage rackA for 20s
        at 80s partition isolate n24 for 15s
        at 90s replay n2 -> n4 count 5
        at 95s stale n1 -> {n2,n3} count 3
        at 100s forge n5 -> all
        expect n3 heals exactly 1 within 20s of wedge
        """

    @Test func aSecondThreadChangesNoResult() throws {
        let s = try scenario(Self.text)
        #expect(s.signer == .ed25519)
        let inline = try SimulationRunner.run(s, threads: 1)
        let ahead = try SimulationRunner.run(s, threads: 2)
        #expect(!inline.verifierThread && ahead.verifierThread)
        #expect(inline.traceHash == ahead.traceHash)
        #expect(inline.verificationsComputed == ahead.verificationsComputed)
        #expect(inline.verificationsMemoized == ahead.verificationsMemoized)
        #expect(inline.rejected.map(\.reason) == ahead.rejected.map(\.reason))
        #expect(inline.rejected.map(\.count) == ahead.rejected.map(\.count))
        #expect(inline.injectedAccepted == ahead.injectedAccepted && inline.injectedDelivered > 0)
        // The text, but for the wall time on its first line and the note on the thread.
        let lines = { (r: SimulationResult) in ResultText.body(r).split(separator: "\n").dropFirst().map(String.init) }
        #expect(lines(inline) == lines(ahead).map { $0.replacingOccurrences(of: " (ahead, on a second thread)", with: "") })
        #expect(lines(ahead).contains { $0.contains("(ahead, on a second thread)") })
        #expect(inline.passed && ahead.passed)
    }

    @Test func aRefutedAnswerDiscardsTheRunAndTheRunnerChecksInline() throws {
        let s = try scenario(Self.text)
        let inline = try SimulationRunner.run(s, threads: 1)
        try VerifyAheadTesting.$verifier.withValue(SlowRefuser(delayMicros: 2_000)) {
            // The simulation itself: the first datagram's check says "invalid" after it was taken as valid.
            let sim = try Simulation<NodeCore>(scenario: s, threads: 2)
            #expect(throws: VerifyAheadRefuted.self) { _ = try sim.run() }
            // The runner runs it again with checks inline: the inline result, no verifying thread.
            let rerun = try SimulationRunner.run(s, threads: 2)
            #expect(!rerun.verifierThread && rerun.traceHash == inline.traceHash)
        }
    }
}
