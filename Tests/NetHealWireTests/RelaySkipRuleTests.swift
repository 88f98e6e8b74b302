import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// `RelaySkipRule`: newer relayed views the receiver judges redundant are skipped before their
/// signature is checked, never accepted, and leave the watermarks alone; the summary the rule sees is
/// read correctly from dense and listed views.
@Suite struct RelaySkipRuleTests {
    @Test func summariesMatchTheMaterialisedViews() throws {
        let fleet = try TestFleet(size: 9)
        var rng = SplitMix64(seed: 77)
        let receiver = MemberIndex(4)
        for round in 0..<40 {
            let origins = [1, 2, 3, 5, 6, 7, 8].filter { $0 != round % 9 }
            let relays = try origins.prefix(3).map { try fleet.signed(fleet.randomView(of: $0, using: &rng, sequence: UInt64(round + 1))) }
            var seen: [RelayedViewSummary] = []
            let rule = RelaySkipRule(receiver: receiver) { seen.append($0); return false }
            var marks = fleet.emptyWatermarks
            let decoded = try fleet.decoder.decode(
                try fleet.datagram(fleet.view(of: 0, sequence: UInt64(round + 1)), relaying: relays).bytes,
                watermarks: &marks, skipRule: rule
            ).get()
            #expect(decoded.relayed.count == relays.count && decoded.skippedRedundant == 0)
            #expect(seen == relays.map {
                RelayedViewSummary(
                    origin: $0.origin, version: $0.view.version, upstream: $0.view.upstream, decision: $0.view.decision,
                    reachOfReceiver: $0.view.reach(of: receiver))
            })
        }
    }

    @Test func listedSummariesFindTheReceiverOrNot() throws {
        let fleet = ListedViewTests.fleet
        let subjects = ListedViewTests.neighbours(of: 9_999)
        let relayed = try fleet.signed(ListedViewTests.listed(9_999, subjects: subjects))
        for (k, subject) in subjects.enumerated() {
            var seen: RelayedViewSummary?
            let rule = RelaySkipRule(receiver: MemberIndex(subject)) { seen = $0; return false }
            var marks = fleet.emptyWatermarks
            _ = try fleet.decoder.decode(
                try fleet.datagram(ListedViewTests.listed(7, subjects: ListedViewTests.neighbours(of: 7)), relaying: [relayed]).bytes,
                watermarks: &marks, skipRule: rule
            ).get()
            #expect(seen?.reachOfReceiver == [Reach.unknown, .reachable, .unreachable][k % 3])
        }
        var seen: RelayedViewSummary?
        let notListed = RelaySkipRule(receiver: MemberIndex(5_000)) { seen = $0; return false }
        var marks = fleet.emptyWatermarks
        _ = try fleet.decoder.decode(
            try fleet.datagram(ListedViewTests.listed(7, subjects: ListedViewTests.neighbours(of: 7)), relaying: [relayed]).bytes,
            watermarks: &marks, skipRule: notListed
        ).get()
        #expect(seen != nil && seen?.reachOfReceiver == nil)
    }

    @Test func redundantRelaysCostNoVerificationAndAreNeverTrusted() throws {
        let fleet = try TestFleet(size: 5)
        let counter = CountingVerifier()
        let decoder = DatagramDecoder(roster: fleet.roster, verifier: counter)
        let r2 = try fleet.signed(fleet.view(of: 2, sequence: 5))
        let r3 = try fleet.signed(fleet.view(of: 3, sequence: 5))
        let skipTwo = RelaySkipRule(receiver: MemberIndex(4)) { $0.origin == MemberIndex(2) }
        var marks = fleet.emptyWatermarks
        let decoded = try decoder.decode(
            try fleet.datagram(fleet.view(of: 1), relaying: [r2, r3]).bytes, watermarks: &marks, skipRule: skipTwo
        ).get()
        #expect(decoded.relayed.map(\.origin) == [MemberIndex(3)])
        #expect(decoded.skippedRelayed == 1 && decoded.skippedRedundant == 1)
        #expect(counter.count == 2)  // the sender's view and view 3
        // Watermarks untouched for the skipped origin: the same copy is accepted without the rule.
        #expect(marks[MemberIndex(2)] == nil)
        let later = try decoder.decode(try fleet.datagram(fleet.view(of: 0), relaying: [r2]).bytes, watermarks: &marks).get()
        #expect(later.relayed.map(\.origin) == [MemberIndex(2)])

        // A forged relayed copy judged redundant is skipped, not accepted: the datagram stands on the
        // sender's view alone.
        var forged = try fleet.datagram(fleet.view(of: 1, sequence: 2), relaying: [try fleet.signed(fleet.view(of: 3, sequence: 9))]).bytes
        forged[forged.count - 1] ^= 0x01
        let skipAll = RelaySkipRule(receiver: MemberIndex(4)) { _ in true }
        var fresh = fleet.emptyWatermarks
        let kept = try decoder.decode(forged, watermarks: &fresh, skipRule: skipAll).get()
        #expect(kept.relayed.isEmpty && kept.skippedRedundant == 1 && fresh[MemberIndex(3)] == nil)
        var other = fleet.emptyWatermarks
        #expect(decoder.decode(forged, watermarks: &other).error == .badSignature(origin: MemberIndex(3)))
        // The sender's own view is never offered to the rule.
        var asked = 0
        let counting = RelaySkipRule(receiver: MemberIndex(4)) { _ in asked += 1; return true }
        var again = fleet.emptyWatermarks
        _ = try decoder.decode(try fleet.datagram(fleet.view(of: 1)).bytes, watermarks: &again, skipRule: counting).get()
        #expect(asked == 0)
    }
}
