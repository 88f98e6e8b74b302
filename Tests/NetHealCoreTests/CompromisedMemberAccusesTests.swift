import NetHealCore
import NetHealTestKit
import NetHealWire
import Testing

/// A compromised member (a real key, genuine signatures) that claims every other member is unreachable.
/// Everything goes through the real wire path (`SignedVictim`). The liar is always the last member.
@Suite struct CompromisedMemberAccusesTests {
    /// The liar's view: every other member unreachable, its own upstream up (so that it counts as an
    /// accuser, the strongest lie), and it announces nothing.
    static func accuseAll(_ v: inout SignedVictim, liar: Int) throws {
        let view = v.nextView(of: liar) { _ in .unreachable }
        try v.send(view)
    }

    @Test(arguments: [5, 10])
    func aNodeWhoseProbesSucceedNeverCyclesWhateverPeersSay(size: Int) throws {
        let liar = size - 1
        // (a) honest peers vouch, (b) only the liar is heard, (c) every peer accuses (every key stolen).
        for scenario in ["honest peers vouch", "only the liar speaks", "every peer accuses"] {
            var v = try SignedVictim(size: size)
            try v.advance(.seconds(600)) { v in
                switch scenario {
                case "honest peers vouch":
                    for peer in 1..<liar { try v.send(v.nextView(of: peer)) }
                    try Self.accuseAll(&v, liar: liar)
                case "only the liar speaks":
                    try Self.accuseAll(&v, liar: liar)
                default:
                    for peer in 1...liar { try Self.accuseAll(&v, liar: peer) }
                }
            }
            #expect(v.heals.isEmpty, "\(scenario): a node whose probes succeed was made to heal")
            #expect(v.core.state == .healthy, "\(scenario)")
            #expect(v.core.rule == .ownProbesOK, "\(scenario)")
            #expect(v.rejections.isEmpty, "\(scenario): genuine datagrams must all be accepted")
            // The lies did arrive and were counted: the evidence shows the accusers.
            let accusers = v.core.evidence(now: v.now).accuserCount
            #expect(accusers == (scenario == "every peer accuses" ? liar : 1), "\(scenario)")
        }
    }

    @Test(arguments: [5, 10])
    func aLoneAccuserCannotMakeANodeWithFailingProbesHealWhileOthersVouch(size: Int) throws {
        let liar = size - 1
        var v = try SignedVictim(size: size)
        v.probesOK = false  // e.g. this node's upstream path is down, its LAN is fine
        try v.advance(.seconds(600)) { v in
            for peer in 1..<liar { try v.send(v.nextView(of: peer, upstream: .failing)) }
            try Self.accuseAll(&v, liar: liar)
        }
        #expect(v.heals.isEmpty)
        #expect(v.core.rule == .voucherHold)
        let evidence = v.core.evidence(now: v.now)
        #expect(evidence.accuserCount == 1)
        #expect(evidence.voucherCount == size - 2)
    }

    @Test(arguments: [5, 10])
    func aLoneAccuserIsShortOfTheQuorumWhenOtherPeersAreUnsure(size: Int) throws {
        let liar = size - 1
        var v = try SignedVictim(size: size)
        v.probesOK = false
        try v.advance(.seconds(600)) { v in
            // Honest peers are heard but do not know about the victim (no voucher, no accusation).
            for peer in 1..<liar {
                let view = v.nextView(of: peer) { $0 == 0 ? .unknown : .reachable }
                try v.send(view)
            }
            try Self.accuseAll(&v, liar: liar)
        }
        #expect(v.heals.isEmpty)
        #expect(v.core.rule == .accuserQuorumShort)
        let evidence = v.core.evidence(now: v.now)
        #expect(evidence.accuserCount == 1)
        #expect(evidence.freshPeers == size - 1)
        #expect(evidence.quorum == (size - 1) / 2 + 1)
    }

    /// The limit: when the victim's own probes fail and the liar is the only peer it hears, the liar's
    /// accusation is the whole quorum (1 of 1). Without the liar the node would heal anyway by the
    /// isolation rule (policy `heal`, after `isolationWindow`); `accuserQuorumMinimum: 2` removes the lever.
    @Test func theLimitAnAccuserThatIsTheOnlyPeerHeardIsTheQuorum() throws {
        var v = try SignedVictim(size: 5)
        v.probesOK = false
        try v.advance(.seconds(30)) { v in try Self.accuseAll(&v, liar: 4) }
        #expect(v.heals.first?.order.rule == .accuserQuorumHeal)

        var alone = try SignedVictim(size: 5)
        alone.probesOK = false
        try alone.advance(.seconds(30))
        #expect(alone.heals.first?.order.rule == .isolationHeal, "without the liar an isolated node heals anyway")

        var settings = HealSettings()
        settings.accuserQuorumMinimum = 2
        var guarded = try SignedVictim(size: 5, settings: settings)
        guarded.probesOK = false
        try guarded.advance(.seconds(600)) { v in try Self.accuseAll(&v, liar: 4) }
        #expect(guarded.heals.isEmpty)
        #expect(guarded.core.rule == .accuserQuorumShort)
    }
}
