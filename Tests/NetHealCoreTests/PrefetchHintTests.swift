import Testing

@testable import NetHealCore

/// The prefetch hints (`NodeCore.peerStateAddress` and friends) are computed from an array's storage
/// word and the standard library's header size, without reading the arrays; they must name exactly the
/// addresses the arrays report (a change of the standard library's layout fails here, not silently).
struct PrefetchHintTests {
    @Test func hintsNameTheArraysOwnAddresses() {
        for (size, neighborhood) in [(120, 32), (7, 32)] {
            var settings = HealSettings()
            settings.neighborhoodSize = neighborhood
            var core = NodeCore(roster: Fleet.roster(size: size), me: MemberIndex(3), settings: settings, pacing: nil, seed: 1)
            let count = core.peers.count
            #expect(count == core.neighbors.count && count > 0)
            let elements = core.peers.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
            for position in [0, 1, count - 1] {
                let hint = core.peerStateAddress(position: position)
                #expect(hint.element == elements + position * MemoryLayout<PeerState>.stride)
                #expect(hint.storage + NodeCore.arrayHeaderBytes == elements)
            }
            let extent = core.peerStateExtent(neighborCount: count)
            #expect(extent.start + NodeCore.arrayHeaderBytes == elements)
            #expect(extent.bytes == NodeCore.arrayHeaderBytes + count * MemoryLayout<PeerState>.stride)
            let list = core.neighbors.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
            #expect(core.neighborListAddress() + NodeCore.arrayHeaderBytes == list)
        }
    }
}
