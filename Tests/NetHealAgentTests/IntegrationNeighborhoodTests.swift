import NetHealCore
import Testing

@testable import NetHealAgent

/// Real agents on loopback in neighbourhood mode (docs/scaling.md): 7 members, `neighborhood_size: 4`.
@Suite("Integration: neighbourhood mode", .serialized)
struct IntegrationNeighborhoodTests {
    @Test("each agent hears exactly its neighbours, listed views verify, the diagnosis speaks of the neighbourhood")
    func agentsWatchOnlyTheirNeighbours() async throws {
        let fleet = try IntegrationFleet(size: 7, extraProtocol: "  neighborhood_size: 4")
        let graph = NeighborGraph(roster: fleet.fleet.roster, size: 4)
        #expect(!graph.isFullMesh)
        fleet.startAll()
        do {
            let all = Array(0..<7)
            let statuses = try await fleet.waitUntil(all, "every agent healthy with a fresh view of each neighbour") { s in
                let neighbours = Set(graph.neighbors(of: MemberIndex(s.memberIndex)).map(\.int))
                return s.decision.state == .healthy
                    && s.members.allSatisfy { $0.isSelf || !neighbours.contains($0.index) || ($0.fresh && $0.reachOfMe == .reachable) }
            }
            for s in statuses {
                let neighbours = Set(graph.neighbors(of: MemberIndex(s.memberIndex)).map(\.int))
                #expect(s.freshPeers == neighbours.count, "\(s.node)")
                #expect(s.diagnosis.hasPrefix("neighbourhood of \(neighbours.count): healthy"), "\(s.node): \(s.diagnosis)")
                #expect(s.counters.rejectedTotal == 0)
                // Nobody but a neighbour sends to this node, and relays of strangers are skipped unverified.
                for m in s.members where !m.isSelf && !neighbours.contains(m.index) {
                    #expect(m.lastDirectMillisAgo == nil, "\(s.node) heard stranger \(m.name) directly")
                    #expect(m.viewVersion == nil, "\(s.node) holds a view of stranger \(m.name)")
                }
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
    }
}
