import NetHealCore

/// The checker's memory of the highest version each receiver accepted from each origin, in
/// neighbourhood mode: one flat slot per (receiver, neighbour), found by binary search over the
/// receiver's ascending neighbours; origins outside the neighbourhood (a forged or odd sender) fall back
/// to a per-receiver dictionary. Memory grows with the edges of the graph, not with members².
/// (0, 0) stands for "nothing accepted yet", below every real version.
struct AcceptedVersions {
    /// Receiver r's neighbours are `rows[r]` (the graph's own rows, ascending: the same storage the
    /// cores and the watermarks search, so it is in cache); its slots start at `start[r]`.
    private let start: [Int]
    private let rows: [[MemberIndex]]
    private var versions: [ViewVersion]
    private var others: [[Int: ViewVersion]]

    static let none = ViewVersion(incarnation: 0, sequence: 0)

    /// Empty memory for the receivers of `graph` (nothing stored for a full mesh: the checker keeps
    /// dense rows there).
    init(graph: NeighborGraph, count n: Int) {
        var start = [0]
        var rows: [[MemberIndex]] = []
        if !graph.isFullMesh {
            start.reserveCapacity(n + 1)
            rows.reserveCapacity(n)
            for r in 0..<n {
                rows.append(graph.neighbors(of: MemberIndex(r)))
                start.append(start[r] + rows[r].count)
            }
        }
        self.start = start
        self.rows = rows
        versions = Array(repeating: Self.none, count: start[start.count - 1])
        others = Array(repeating: [:], count: graph.isFullMesh ? 0 : n)
    }

    @inline(__always)
    private func slot(_ receiver: Int, _ origin: Int) -> Int? {
        guard origin <= Int(UInt16.max), let k = rows[receiver].positionInSorted(of: MemberIndex(rawValue: UInt16(origin))) else {
            return nil
        }
        return start[receiver] + k
    }

    /// The highest version `receiver` accepted from `origin`, or (0, 0).
    func last(_ receiver: Int, _ origin: Int) -> ViewVersion {
        if let k = slot(receiver, origin) { return versions[k] }
        return others[receiver][origin] ?? Self.none
    }

    /// Records `version` as the highest accepted by `receiver` from `origin`.
    mutating func set(_ receiver: Int, _ origin: Int, _ version: ViewVersion) {
        if let k = slot(receiver, origin) { versions[k] = version } else { others[receiver][origin] = version }
    }

    /// Records `version` for (`receiver`, `origin`) when it is newer than the one stored and returns nil;
    /// otherwise changes nothing and returns the stored version (one lookup for `last` then `set`).
    mutating func raise(_ receiver: Int, _ origin: Int, to version: ViewVersion) -> ViewVersion? {
        if let k = slot(receiver, origin) {
            if version <= versions[k] { return versions[k] }
            versions[k] = version
            return nil
        }
        let last = others[receiver][origin] ?? Self.none
        if version <= last { return last }
        others[receiver][origin] = version
        return nil
    }

    /// Forgets everything `receiver` accepted (its agent restarted).
    mutating func reset(_ receiver: Int) {
        for k in start[receiver]..<start[receiver + 1] { versions[k] = Self.none }
        others[receiver] = [:]
    }
}
