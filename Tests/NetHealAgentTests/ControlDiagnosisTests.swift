import NetHealCore
import Testing

@testable import NetHealAgent

/// `FleetDiagnosis`: one line about the fleet from the fresh views one node holds.
@Suite("Control: fleet diagnosis")
struct ControlDiagnosisTests {
    typealias View = FleetDiagnosis.MemberView

    /// Member i's view where `reachable` lists whom it reaches (everyone else unreachable).
    static func view(
        _ i: Int, of n: Int, reaches reachable: Set<Int>, upstream: UpstreamHealth = .up,
        decision: DecisionState = .healthy
    ) -> View {
        View(
            upstream: upstream, decision: decision,
            reach: (0..<n).map { $0 == i ? .isSelf : (reachable.contains($0) ? .reachable : .unreachable) })
    }

    static func names(_ n: Int) -> [String] { (1...n).map { "n\($0)" } }

    static func everyoneReachesEveryone(_ n: Int, upstream: (Int) -> UpstreamHealth = { _ in .up }) -> [View?] {
        (0..<n).map { view($0, of: n, reaches: Set(0..<n), upstream: upstream($0)) }
    }

    @Test("healthy: one connected group, every upstream up")
    func healthy() {
        let input = FleetDiagnosis.Input(names: Self.names(5), views: Self.everyoneReachesEveryone(5), me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "healthy")
    }

    @Test("upstream outage: every member fails upstream, LAN intact")
    func upstreamOutage() {
        let input = FleetDiagnosis.Input(
            names: Self.names(5), views: Self.everyoneReachesEveryone(5) { _ in .failing }, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "upstream outage: 5/5 fail upstream, LAN intact")
    }

    @Test("some members fail upstream: named, with the count")
    func partialUpstream() {
        let input = FleetDiagnosis.Input(
            names: Self.names(5), views: Self.everyoneReachesEveryone(5) { $0 == 1 || $0 == 2 ? .failing : .up }, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "upstream failing at n2,n3 (2/5), LAN intact")
    }

    @Test("partition {n1,n2,n3} | {n4,n5}")
    func partition() {
        let a: Set = [0, 1, 2]
        let b: Set = [3, 4]
        let views: [View?] = (0..<5).map { Self.view($0, of: 5, reaches: a.contains($0) ? a : b) }
        let input = FleetDiagnosis.Input(names: Self.names(5), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "partition {n1,n2,n3} | {n4,n5}")
        #expect(FleetDiagnosis.connectedGroups(input) == [[0, 1, 2], [3, 4]])
    }

    @Test("a partition seen from one side: the other side's views are not fresh, but they were reachable to nobody")
    func partitionFromOneSide() {
        // n1's side only: n4 and n5 have no fresh view here; n1..n3 report them unreachable.
        let a: Set = [0, 1, 2]
        let views: [View?] = (0..<5).map { $0 < 3 ? Self.view($0, of: 5, reaches: a) : nil }
        let input = FleetDiagnosis.Input(names: Self.names(5), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "n4, n5 isolated")
    }

    @Test("n3 isolated: nobody reaches it, no fresh view from it")
    func oneIsolated() {
        let others: Set = [0, 1, 3, 4]
        var views: [View?] = (0..<5).map { Self.view($0, of: 5, reaches: others) }
        views[2] = nil
        let input = FleetDiagnosis.Input(names: Self.names(5), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "n3 isolated")
    }

    @Test("this node isolated: it hears nobody and reaches nobody")
    func meIsolated() {
        var views: [View?] = Array(repeating: nil, count: 5)
        views[0] = Self.view(0, of: 5, reaches: [], upstream: .failing)
        let input = FleetDiagnosis.Input(names: Self.names(5), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "this node (n1) isolated: no fresh view from any peer")
    }

    @Test("starting: nothing heard yet, every reach unknown")
    func starting() {
        var views: [View?] = Array(repeating: nil, count: 3)
        views[0] = View(upstream: .unknown, decision: .starting, reach: [.isSelf, .unknown, .unknown])
        let input = FleetDiagnosis.Input(names: Self.names(3), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "starting: no peer heard yet")
    }

    @Test("a healing member is named after the main line")
    func healingNamed() {
        var views = Self.everyoneReachesEveryone(3)
        views[1]!.decision = .healing
        let input = FleetDiagnosis.Input(names: Self.names(3), views: views, me: 0)
        #expect(FleetDiagnosis.diagnose(input) == "healthy; n2 healing")
    }

    @Test("one-sided evidence connects: a reports b reachable, b has no view")
    func oneSidedReach() {
        var views: [View?] = [Self.view(0, of: 2, reaches: [1]), nil]
        var input = FleetDiagnosis.Input(names: Self.names(2), views: views, me: 0)
        #expect(FleetDiagnosis.connectedGroups(input) == [[0, 1]])
        #expect(FleetDiagnosis.diagnose(input) == "healthy; no fresh view from n2")
        views[0] = Self.view(0, of: 2, reaches: [])
        input = FleetDiagnosis.Input(names: Self.names(2), views: views, me: 0)
        #expect(FleetDiagnosis.connectedGroups(input) == [[0], [1]])
    }
}
