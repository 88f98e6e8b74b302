import NetHealCore

/// How two copies of one cluster's file differ, judged by what the nodes holding them would do with
/// each other's views (docs/key-rotation.md). `config check` uses it to explain a digest mismatch.
public struct ClusterCopyComparison: Hashable, Sendable {
    /// True when every member's views can be accepted by holders of either copy: same cluster id, same
    /// member count, and at each index the two copies list at least one key in common. The steps of a
    /// key rotation are compatible with each other; adding or removing a member never is.
    public var viewsCompatible: Bool
    /// One finding per line, most serious first, e.g. "n3: keys differ but share ed25519:1a2b3c4d…".
    public var findings: [String]

    /// The findings joined with "; ".
    public var explanation: String { findings.joined(separator: "; ") }
}

extension ClusterConfiguration {
    /// Compares this copy with `other` (another node's copy of the same cluster's file).
    public func compare(with other: ClusterConfiguration) -> ClusterCopyComparison {
        var fatal: [String] = []
        var notes: [String] = []
        var disjoint = false
        if clusterID != other.clusterID {
            fatal.append("cluster ids differ (`\(clusterID)` vs `\(other.clusterID)`): every view is rejected (unknown_cluster)")
        }
        if members.count != other.members.count {
            let mine = members.map(\.name)
            let theirs = other.members.map(\.name)
            var what = "\(members.count) vs \(other.members.count) members"
            let onlyHere = mine.filter { !theirs.contains($0) }
            let onlyThere = theirs.filter { !mine.contains($0) }
            if !onlyHere.isEmpty { what += " (only here: " + onlyHere.joined(separator: ", ") + ")" }
            if !onlyThere.isEmpty { what += " (only there: " + onlyThere.joined(separator: ", ") + ")" }
            fatal.append(
                "\(what): nodes holding different copies reject each other's views (member_count_mismatch) until one file is everywhere")
            return ClusterCopyComparison(viewsCompatible: false, findings: fatal)
        }
        for i in members.indices {
            let a = members[i]
            let b = other.members[i]
            let keysA = a.allKeys
            let keysB = b.allKeys
            let shared = keysA.filter { keysB.contains($0) }
            if shared.isEmpty {
                disjoint = true
                fatal.append(
                    "member \(i) (`\(a.name)` / `\(b.name)`) has no key in common: its views are rejected across the copies (bad_signature)")
                continue
            }
            if a.name != b.name { notes.append("member \(i) is named `\(a.name)` vs `\(b.name)`") }
            if keysA != keysB {
                notes.append(
                    "\(a.name): keys differ but share \(Self.shortKey(shared[0])) — its views are accepted by both only while it signs with that key (a key rotation step)")
            }
            if a.addresses != b.addresses { notes.append("\(a.name): addresses differ") }
            if a.failureDomain != b.failureDomain { notes.append("\(a.name): failure domains differ") }
        }
        if disjoint {
            fatal.append(
                "with the same member count, views that still verify are read with a different member order, so a reachability bit can be charged to the wrong member — never remove and add, reorder or replace members in one step: change the member count in each step (docs/key-rotation.md)")
        }
        if settings != other.settings { notes.append("protocol settings differ: nodes decide by different rules meanwhile") }
        if fatal.isEmpty && notes.isEmpty { notes.append("only comments or formatting differ") }
        return ClusterCopyComparison(viewsCompatible: fatal.isEmpty, findings: fatal + notes)
    }

    /// `ed25519:` and the first 8 hex digits of `key`, then an ellipsis.
    static func shortKey(_ key: [UInt8]) -> String { PublicKeyText.prefix + Hex.encode(key.prefix(4)) + "…" }
}

extension ClusterConfiguration.Member {
    /// `publicKey`, then `nextPublicKey` when present.
    var allKeys: [[UInt8]] { [publicKey] + (nextPublicKey.map { [$0] } ?? []) }
}
