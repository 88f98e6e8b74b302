import Foundation
import Synchronization
import NetHealWire

#if canImport(Glibc)
    import Glibc
#endif

/// One signature check handed to the verifying thread: the sender's view of a datagram just made.
///
/// Ed25519 verification is a pure function of (signature, message, key). `CachingVerifier` uses a
/// check only when the inputs the decoder asks about are byte-for-byte the check's (`matches`), and
/// counts it exactly as an inline check. When the answer is ready it is used; when it is not, the
/// decoder's thread takes the signature as valid (the simulator's own signer made it for this very
/// key) and confirms the answer later (`CachingVerifier.confirmAll`): a check that turns out invalid
/// discards the run, which is then run again checking inline (`VerifyAheadRefuted`). So every result is
/// the one the inline checks give, and every signature is still checked by libsodium before the result
/// is reported. Whoever claims a check first (a compare-and-swap of `state` from queued to claimed)
/// computes it: the worker, or the decoder's thread when it needs the answer now.
/// `@unchecked Sendable`: the inputs are immutable; `state` is the only shared mutable word.
final class AheadCheck: @unchecked Sendable {
    /// The view exactly as signed: fields, then the 64-byte signature.
    let signedView: [UInt8]
    let publicKey: [UInt8]
    /// What computes the check, on either thread: libsodium (`Ed25519Verifier`); tests swap in others.
    let verifier: any SignatureVerifier
    /// 0 queued, 1 claimed (being computed), 2 valid, 3 invalid.
    private let state = Atomic<Int>(0)

    init(signedView: [UInt8], publicKey: [UInt8], verifier: any SignatureVerifier) {
        self.signedView = signedView
        self.publicKey = publicKey
        self.verifier = verifier
    }

    private var split: Int { signedView.count - WireFormat.signatureBytes }

    /// True when (`signature`, `message`, `publicKey`) are exactly this check's inputs.
    func matches(signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>, publicKey key: [UInt8]) -> Bool {
        guard split >= 0, signature.count == WireFormat.signatureBytes, message.count == split, key == publicKey else {
            return false
        }
        return signedView.withUnsafeBytes { mine in
            message.withUnsafeBytes { m in
                signature.withUnsafeBytes { s in
                    memcmp(mine.baseAddress!, m.baseAddress!, split) == 0
                        && memcmp(mine.baseAddress! + split, s.baseAddress!, WireFormat.signatureBytes) == 0
                }
            }
        }
    }

    /// Claims and computes the check; false when the other thread had claimed it (then it is its job).
    @discardableResult
    func computeIfUnclaimed() -> Bool {
        guard state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged else { return false }
        let valid = split >= 0 && verifier.verify(
            signature: signedView[split...], message: signedView[..<split], publicKey: publicKey)
        state.store(valid ? 2 : 3, ordering: .releasing)
        return true
    }

    /// The answer when computed, nil while queued or being computed.
    var settled: Bool? {
        switch state.load(ordering: .acquiring) {
        case 2: true
        case 3: false
        default: nil
        }
    }

    /// The answer: computed here when nobody has started it, else awaited (the worker finishes a check
    /// it claimed within one verification, tens of microseconds).
    func answer() -> (valid: Bool, stolen: Bool) {
        var s = state.load(ordering: .acquiring)
        var stolen = false
        if s < 2 {
            stolen = computeIfUnclaimed()
            ParWorker.wait(spinsBeforeYield: 200_000) { state.load(ordering: .acquiring) >= 2 }
            s = state.load(ordering: .acquiring)
        }
        return (s == 2, stolen)
    }
}

/// The verifying thread of a simulation with the real signer (`Simulation.verifierThread`): computes
/// the sender-view signature checks of datagrams just made (`AheadCheck`), oldest first, on the second
/// core, while the simulation's thread goes on with the events.
///
/// Why answers are taken ahead of their check: a datagram's first delivery is a link latency (≥ 1 ms
/// simulated) after it was made, which at 100 nodes is a few events and a few microseconds of wall
/// time, while a check takes ~60 µs. Waiting for the check at the delivery would serialise the two
/// threads again (measured: no gain). Taking the answer ahead and confirming it later keeps both
/// threads busy; `CachingVerifier.unconfirmedLimit` bounds how far ahead the simulation runs and makes
/// it compute checks itself when the worker falls behind, which balances the two.
///
/// A single-producer single-consumer ring: the simulation's thread writes slots at `head`, the worker
/// takes them at `tail`; a full ring only means the check is computed inline. Between checks the worker
/// waits as `ParWorker` does: it spins briefly, then yields, then naps (no work for long: the fleet is quiet).
///
/// `@unchecked Sendable`: each slot is written by the producer before it publishes `head` (releasing)
/// and read and cleared by the worker before it publishes `tail` (releasing); each side acquires the
/// other's word. `produced`, `started`, `verifier` and the counters without atomics are the producer's.
final class VerifyAheadWorker: @unchecked Sendable {
    static let capacity = 4096
    private let slots: UnsafeMutablePointer<Unmanaged<AheadCheck>?>
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Bool>(false)
    private let workerRan = Atomic<Int>(0)
    private var produced = 0
    private var started = false
    /// What computes the checks made for this worker (`makeCheck`): libsodium; a test may swap it
    /// before `start`.
    var verifier: any SignatureVerifier
    /// Checks handed to the worker, and those the ring was too full to take.
    private(set) var submitted = 0
    private(set) var ringFull = 0
    /// Checks the worker computed (read after `stop`).
    var computedOnWorker: Int { workerRan.load(ordering: .relaxed) }

    init(verifier: any SignatureVerifier) {
        self.verifier = verifier
        slots = .allocate(capacity: Self.capacity)
        slots.initialize(repeating: nil, count: Self.capacity)
    }

    deinit {
        stop()
        slots.deinitialize(count: Self.capacity)
        slots.deallocate()
    }

    func start() {
        guard !started else { return }
        started = true
        let thread = Thread { [self] in loop() }
        thread.name = "netheal-sim-verify"
        thread.start()
    }

    /// A check of `signedView` (fields then signature) under `publicKey`, computed by `verifier`.
    func makeCheck(signedView: [UInt8], publicKey: [UInt8]) -> AheadCheck {
        AheadCheck(signedView: signedView, publicKey: publicKey, verifier: verifier)
    }

    /// Queues `check` for the worker; false (and nothing queued) when not started or the ring is full.
    @discardableResult
    func submit(_ check: AheadCheck) -> Bool {
        guard started, !stopping.load(ordering: .relaxed) else { return false }
        if produced - tail.load(ordering: .acquiring) >= Self.capacity {
            ringFull += 1
            return false
        }
        slots[produced & (Self.capacity - 1)] = .passRetained(check)
        produced += 1
        submitted += 1
        head.store(produced, ordering: .releasing)
        return true
    }

    /// Ends the worker, waits for it, and drops the checks it had not taken (idempotent).
    func stop() {
        guard started, !stopping.load(ordering: .relaxed) else { return }
        stopping.store(true, ordering: .releasing)
        ParWorker.wait(spinsBeforeYield: 1_000) { exited.load(ordering: .acquiring) }
        var t = tail.load(ordering: .acquiring)
        while t < produced {
            slots[t & (Self.capacity - 1)]?.release()
            slots[t & (Self.capacity - 1)] = nil
            t += 1
        }
        tail.store(t, ordering: .releasing)
    }

    private func loop() {
        var t = tail.load(ordering: .relaxed)
        while true {
            ParWorker.wait(spinsBeforeYield: 20_000) {
                stopping.load(ordering: .acquiring) || t < head.load(ordering: .acquiring)
            }
            // Stopping leaves the checks not taken yet to `stop`: the run's answers are all confirmed by then.
            if stopping.load(ordering: .acquiring) { break }
            let slot = slots + (t & (Self.capacity - 1))
            let check = slot.pointee!.takeRetainedValue()
            slot.pointee = nil
            t += 1
            tail.store(t, ordering: .releasing)
            if check.computeIfUnclaimed() { workerRan.wrappingAdd(1, ordering: .relaxed) }
        }
        exited.store(true, ordering: .releasing)
    }
}

/// A signature taken as valid before the verifying thread had checked it was invalid: the run is
/// discarded (`SimulationRunner` runs it again without the thread). The simulator's own signer never
/// makes such a signature; a test forces one.
public struct VerifyAheadRefuted: Error, CustomStringConvertible {
    public var description: String { "a signature taken as valid ahead of its check was invalid: run again without the verifying thread" }
}

/// What computes the verifying thread's checks when a test says so (a task-local, so that tests that
/// run at the same time do not see each other's); nil: libsodium.
enum VerifyAheadTesting {
    @TaskLocal static var verifier: (any SignatureVerifier)?
}

extension Simulation {
    /// Confirms every answer taken ahead of its check (`CachingVerifier.confirmAll`); throws
    /// `VerifyAheadRefuted` if one was wrong. Nothing to do without a verifying thread.
    func confirmVerifiedAhead() throws {
        guard verifying != nil, let verifier else { return }
        if !verifier.confirmAll() { throw VerifyAheadRefuted() }
    }

    /// Ends the verifying thread and notes in the result that it ran; `NETHEAL_SIM_VERIFY_STATS=1`
    /// prints how the checks were shared (timing-dependent, so never part of the result text).
    func recordVerifyAhead() {
        guard let verifying, let verifier else { return }
        verifying.stop()
        result.verifierThread = true
        result.verificationsAhead = verifying.computedOnWorker
        if ProcessInfo.processInfo.environment["NETHEAL_SIM_VERIFY_STATS"] != nil {
            print(
                "verify-ahead: submitted \(verifying.submitted), ring full \(verifying.ringFull), computed on the thread "
                    + "\(verifying.computedOnWorker); answers ready \(verifier.answeredAhead), taken ahead \(verifier.speculated), "
                    + "computed here \(verifier.stolen)")
        }
    }

    /// The smallest run (fleet size × simulated seconds) that gets a verifying thread by default:
    /// 30,000 node-seconds, a run of a few wall seconds with libsodium. Shorter runs (every swarm seed:
    /// at most 50 nodes for 6 minutes) would spend more on the thread and the idle check than it saves.
    public static var verifierThreadMinimum: Int { 30_000 }

    /// Whether a run checks signatures ahead on a second thread (`VerifyAheadWorker`): only with the
    /// real signer (the stand-in costs less than the hand-over), never when 1 thread is asked for or
    /// `NETHEAL_SIM_NO_VERIFY_AHEAD=1` is set, always when 2 are asked for; by default for runs of at least
    /// `verifierThreadMinimum` node-seconds on a machine with 2+ CPUs of which at least 1.5 were idle over
    /// the last 100 ms (`idleCPUs`). Changes no result: only where a check is computed.
    public static func verifierThread(scenario: Scenario, requested: Int? = nil) -> Bool {
        guard scenario.signer == .ed25519, requested != 1 else { return false }
        if let flag = ProcessInfo.processInfo.environment["NETHEAL_SIM_NO_VERIFY_AHEAD"], flag != "0", !flag.isEmpty {
            return false
        }
        if requested != nil { return true }
        let nodeSeconds = scenario.fleetSize * Int(scenario.duration.components.seconds)
        guard nodeSeconds >= verifierThreadMinimum, ProcessInfo.processInfo.activeProcessorCount >= 2 else { return false }
        return (idleCPUs() ?? 2) >= 1.5
    }
}
