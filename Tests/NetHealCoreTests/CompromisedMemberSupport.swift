import NetHealCore
import NetHealTestKit
import NetHealWire

/// One victim `NodeCore` (member 0 of a `TestFleet` with real Ed25519 keys) fed only through the real
/// wire path: every peer view is signed with its origin's key, put in a datagram, decoded and verified by
/// the victim's `DatagramDecoder` against its `ViewWatermarks`, and only the accepted views reach the core
/// (the sender's view as `direct`, relayed ones as not). The test plays every peer, honest or lying.
struct SignedVictim {
    let fleet: TestFleet
    let decoder: DatagramDecoder
    var core: NodeCore
    var marks: ViewWatermarks
    var now = Instant.zero
    /// Whether the victim's own probe rounds answer.
    var probesOK = true
    var incarnation: [UInt64]
    var sequence: [UInt64]
    /// Every cycle (or dry-run would-heal) the victim ordered, with its time.
    var heals: [(at: Instant, order: HealOrder)] = []
    var rules: [DecisionRule] = []
    /// Every datagram outcome, in order.
    var rejections: [WireError] = []

    init(size: Int, settings: HealSettings = HealSettings()) throws {
        fleet = try TestFleet(size: size)
        decoder = fleet.decoder
        marks = fleet.emptyWatermarks
        marks.pin(MemberIndex(0))  // the victim's own views are never news to it
        core = NodeCore(roster: fleet.roster, me: MemberIndex(0), settings: settings, pacing: nil, seed: 11)
        incarnation = Array(repeating: 1, count: size)
        sequence = Array(repeating: 0, count: size)
        feed(.started)
    }

    var victim: MemberIndex { MemberIndex(0) }

    mutating func feed(_ input: CoreInput) {
        for effect in core.handle(input, now: now) {
            switch effect {
            case .runProbeRound:
                let outcome: ProbeOutcome = probesOK ? .answered : .sendError("ENETUNREACH")
                feed(.probeRound(.init(targets: [.init(target: "gw", outcome: outcome)])))
            case .cycleInterface(let order):
                heals.append((now, order))
                feed(.healFinished(.completed))
            case .wouldHeal(let order):
                heals.append((now, order))
            case .decisionChanged(let record):
                rules.append(record.rule)
            case .gossip, .persist:
                break
            }
        }
    }

    /// A view of `origin` at its next sequence, saying `reachOf` about every member (the origin's slot is
    /// `.isSelf`); the default is the honest "everyone reachable".
    mutating func nextView(
        of origin: Int, upstream: UpstreamHealth = .up, decision: DecisionState = .healthy,
        reachOf: (Int) -> Reach = { _ in .reachable }
    ) -> ReachabilityView {
        sequence[origin] += 1
        return fleet.view(
            of: origin, incarnation: incarnation[origin], sequence: sequence[origin], upstream: upstream,
            decision: decision, reach: (0..<fleet.size).map { $0 == origin ? .isSelf : reachOf($0) })
    }

    /// Delivers raw datagram bytes to the victim: decode + verify, then feed the accepted views.
    @discardableResult
    mutating func deliver(_ bytes: [UInt8]) -> Result<DecodedDatagram, WireError> {
        let result = decoder.decode(bytes, watermarks: &marks)
        switch result {
        case .success(let decoded):
            feed(.viewReceived(decoded.sender.view, direct: true))
            for relayed in decoded.relayed { feed(.viewReceived(relayed.view, direct: false)) }
        case .failure(let error):
            rejections.append(error)
        }
        return result
    }

    /// Signs `view` with its origin's real key and delivers it as a datagram (relaying `relayed`).
    @discardableResult
    mutating func send(_ view: ReachabilityView, relaying relayed: [SignedView] = []) throws -> Result<DecodedDatagram, WireError> {
        deliver(try fleet.datagram(view, relaying: relayed).bytes)
    }

    /// Advances time in 1 s steps; `each` runs before the victim's tick (peers send there).
    mutating func advance(_ duration: Duration, each: (inout SignedVictim) throws -> Void = { _ in }) rethrows {
        let end = now + duration
        while now < end {
            now = now + .seconds(1)
            try each(&self)
            feed(.tick)
        }
    }

    /// Seconds from `start` to the first heal at or after it, or nil.
    func firstHeal(after start: Instant) -> Duration? {
        heals.first { $0.at >= start }.map { $0.at - start }
    }
}
