import NetHealCore
import Testing

@Test func aFreshCoreStartsByProbingAndGossiping() {
    let roster = ClusterRoster(
        clusterID: "t", members: (1...3).map { ClusterRoster.Member(name: "n\($0)", publicKey: []) })
    var core = NodeCore(roster: roster, me: MemberIndex(0), settings: HealSettings(), pacing: nil, seed: 1)
    let effects = core.handle(.tick, now: .zero)
    #expect(effects.contains(.runProbeRound))
    #expect(effects.contains { if case .gossip = $0 { true } else { false } })
}
