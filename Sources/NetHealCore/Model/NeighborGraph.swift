/// Who watches whom: a fixed, symmetric neighbour relation derived from the cluster file alone, so
/// that every node computes the same graph without talking to anyone (docs/scaling.md §2).
///
/// A cluster with at most `size + 1` members is a **full mesh**: every member neighbours every other,
/// and views are dense bitmaps (protocol layout 1). A larger cluster runs in **neighbourhood mode**:
///
/// - *Domain rings.* When the cluster file gives failure domains, the members of one domain are
///   linked among themselves: all of them when the domain has at most `size / 2` other members,
///   otherwise each member's predecessor and successor on `size / 4` hash rings over the domain.
///   These neighbours share the member's rack, so a rack that loses its uplink still finds vouchers
///   inside it (rule 3: "not my interface").
/// - *Global rings.* Each member's predecessor and successor on hash rings over the whole cluster:
///   `size / 4` rings when domains are given, `size / 2` when none are. These neighbours lie in other
///   domains, so a wedged interface meets accusers whose upstream is fine.
///
/// Ring positions are a 64-bit hash of (ring number, member name), so adding a member moves only its
/// ring neighbours. The relation is symmetric (b follows a on a ring exactly when a precedes b), and
/// no member has more than `size` neighbours. Nothing here depends on Dictionary or Set order.
public struct NeighborGraph: Sendable {
    /// The neighbourhood size in force (`HealSettings.neighborhoodSize`).
    public let size: Int
    /// Number of members.
    public let memberCount: Int
    /// Neighbours of each member in ascending member order; empty in a full mesh (computed on demand).
    private let adjacency: [[MemberIndex]]

    /// True when every member neighbours every other (`memberCount - 1 <= size`).
    public var isFullMesh: Bool { memberCount - 1 <= size }

    /// The graph of `roster` for neighbourhoods of at most `size` (≥ 2) members.
    public init(roster: ClusterRoster, size: Int) {
        let size = max(2, size)
        self.size = size
        self.memberCount = roster.count
        guard roster.count - 1 > size else {
            adjacency = []
            return
        }
        adjacency = Self.build(roster: roster, size: size)
    }

    /// The neighbours of `member`, ascending.
    public func neighbors(of member: MemberIndex) -> [MemberIndex] {
        if isFullMesh {
            return (0..<memberCount).compactMap { $0 == member.int ? nil : MemberIndex($0) }
        }
        return adjacency[member.int]
    }

    /// The largest neighbourhood of any member (the full mesh: members − 1).
    public var maxDegree: Int {
        isFullMesh ? max(0, memberCount - 1) : adjacency.reduce(0) { max($0, $1.count) }
    }

    // MARK: Construction

    private static func build(roster: ClusterRoster, size: Int) -> [[MemberIndex]] {
        let n = roster.count
        var links = [[Int]](repeating: [], count: n)
        let hasDomains = roster.members.contains { $0.failureDomain != nil }
        let globalRings = max(1, hasDomains ? size / 4 : size / 2)
        let everyone = Array(0..<n)
        for ring in 0..<globalRings {
            linkRing(everyone, ring: UInt64(ring), salt: 0, roster: roster, links: &links)
        }
        if hasDomains {
            for (number, group) in domainGroups(roster).enumerated() where group.count > 1 {
                if group.count - 1 <= size / 2 {
                    for a in group { for b in group where b != a { links[a].append(b) } }
                } else {
                    for ring in 0..<max(1, size / 4) {
                        linkRing(group, ring: UInt64(ring), salt: UInt64(number + 1), roster: roster, links: &links)
                    }
                }
            }
        }
        return links.map { list in
            var unique: [MemberIndex] = []
            for m in list.sorted() where unique.last?.int != m { unique.append(MemberIndex(m)) }
            return unique
        }
    }

    /// Links every member of `group` to its predecessor and successor on one hash ring.
    private static func linkRing(_ group: [Int], ring: UInt64, salt: UInt64, roster: ClusterRoster, links: inout [[Int]]) {
        guard group.count > 1 else { return }
        let order = group.map { (position: ringPosition(roster.members[$0].name, ring: ring, salt: salt), member: $0) }
            .sorted { ($0.position, $0.member) < ($1.position, $1.member) }
        for k in order.indices {
            let a = order[k].member
            let b = order[(k + 1) % order.count].member
            guard a != b else { continue }
            links[a].append(b)
            links[b].append(a)
        }
    }

    /// Members grouped by failure domain, groups in order of their first member; members without a
    /// domain form no group.
    private static func domainGroups(_ roster: ClusterRoster) -> [[Int]] {
        let keyed = roster.members.indices.compactMap { i in roster.members[i].failureDomain.map { (domain: $0, member: i) } }
        let sorted = keyed.sorted { ($0.domain, $0.member) < ($1.domain, $1.member) }
        var groups: [(first: Int, members: [Int])] = []
        var current: String?
        for entry in sorted {
            if entry.domain != current {
                groups.append((entry.member, []))
                current = entry.domain
            }
            groups[groups.count - 1].members.append(entry.member)
        }
        return groups.sorted { $0.first < $1.first }.map(\.members)
    }

    /// FNV-1a over the name's UTF-8, mixed with the ring number and salt by SplitMix64's finalizer.
    static func ringPosition(_ name: String, ring: UInt64, salt: UInt64) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        var z = h ^ (ring &* 0x9E37_79B9_7F4A_7C15) ^ (salt &* 0xD1B5_4A32_D192_ED03)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
