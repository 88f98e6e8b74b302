import Testing

@testable import NetHealCore

/// The neighbour graph of large clusters (docs/scaling.md §2).
struct NeighborGraphTests {
    static func roster(_ n: Int, domains: Int? = nil) -> ClusterRoster {
        ClusterRoster(
            clusterID: "big",
            members: (0..<n).map { i in
                .init(name: "node-\(i)", publicKey: [], failureDomain: domains.map { "rack\(i % $0)" })
            })
    }

    @Test func smallClustersAreAFullMesh() {
        let graph = NeighborGraph(roster: Self.roster(33), size: 32)
        #expect(graph.isFullMesh)
        #expect(graph.neighbors(of: MemberIndex(5)).count == 32)
        #expect(!graph.neighbors(of: MemberIndex(5)).contains(MemberIndex(5)))
        #expect(!NeighborGraph(roster: Self.roster(34), size: 32).isFullMesh)
    }

    @Test(arguments: [nil, 40, 500] as [Int?])
    func symmetricBoundedAndWithoutSelf(domains: Int?) {
        let n = 2_000
        let graph = NeighborGraph(roster: Self.roster(n, domains: domains), size: 32)
        var edges = Set<[Int]>()
        for i in 0..<n {
            let list = graph.neighbors(of: MemberIndex(i))
            #expect(list.count <= 32)
            #expect(list.count >= 2, "member \(i) has \(list.count) neighbours")
            #expect(!list.contains(MemberIndex(i)))
            #expect(list == list.sorted() && Set(list).count == list.count)
            for m in list { edges.insert([i, m.int]) }
        }
        for e in edges { #expect(edges.contains([e[1], e[0]]), "edge \(e) is one-way") }
        #expect(graph.maxDegree <= 32)
    }

    @Test func everyMemberHasNeighboursInItsOwnDomain() {
        // 40 racks of 50: a rack is larger than size/2 = 16, so rings inside it give ≥ 2 rack-mates.
        let roster = Self.roster(2_000, domains: 40)
        let graph = NeighborGraph(roster: roster, size: 32)
        for i in 0..<roster.count {
            let mine = roster.members[i].failureDomain
            let rackMates = graph.neighbors(of: MemberIndex(i)).filter { roster.members[$0.int].failureDomain == mine }
            let others = graph.neighbors(of: MemberIndex(i)).count - rackMates.count
            #expect(rackMates.count >= 2, "member \(i): \(rackMates.count) rack-mates")
            #expect(others >= 2, "member \(i): \(others) neighbours outside its rack")
        }
        // A rack of at most size/2 + 1 members is a clique: every member neighbours all its rack-mates.
        let small = Self.roster(600, domains: 60)  // racks of 10
        let smallGraph = NeighborGraph(roster: small, size: 32)
        let rack0 = (0..<600).filter { $0 % 60 == 0 }
        for a in rack0 {
            for b in rack0 where b != a { #expect(smallGraph.neighbors(of: MemberIndex(a)).contains(MemberIndex(b))) }
        }
    }

    @Test func theGraphDependsOnTheClusterFileAloneAndAddingAMemberMovesLittle() {
        let a = NeighborGraph(roster: Self.roster(1_000), size: 32)
        let b = NeighborGraph(roster: Self.roster(1_000), size: 32)
        for i in 0..<1_000 { #expect(a.neighbors(of: MemberIndex(i)) == b.neighbors(of: MemberIndex(i))) }
        let grown = NeighborGraph(roster: Self.roster(1_001), size: 32)
        let changed = (0..<1_000).filter { a.neighbors(of: MemberIndex($0)) != grown.neighbors(of: MemberIndex($0)) }
        // The new member takes one slot on each of 16 rings: at most 2 members per ring change.
        #expect(changed.count <= 32, "\(changed.count) members changed neighbours")
    }

    @Test func everyMemberIsReachableFromEveryOther() {
        // Hash rings are cycles: the graph is connected, so evidence can flow fleet-wide by relays.
        let graph = NeighborGraph(roster: Self.roster(3_000, domains: 100), size: 16)
        var seen = [Bool](repeating: false, count: 3_000)
        var frontier = [0]
        seen[0] = true
        while let next = frontier.popLast() {
            for m in graph.neighbors(of: MemberIndex(next)) where !seen[m.int] {
                seen[m.int] = true
                frontier.append(m.int)
            }
        }
        #expect(seen.allSatisfy { $0 })
    }
}
