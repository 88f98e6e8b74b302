import NetHealCore

/// A one-line diagnosis of the whole fleet, drawn from the fresh views one node holds (pure).
///
/// Two members are *connected* when either one's fresh view reports the other reachable. The
/// connected groups tell a partition (`partition {n1,n2,n3} | {n4,n5}`) or isolated members
/// (`n3 isolated`) from an intact LAN; the members' upstream judgements tell an upstream outage
/// (`upstream outage: 5/5 fail upstream, LAN intact`). Ties and orders follow member order only.
public enum FleetDiagnosis {
    /// What one member's fresh view says (nil in `Input.views` when there is none).
    public struct MemberView: Hashable, Sendable {
        public var upstream: UpstreamHealth
        public var decision: DecisionState
        /// Its reach of every member, in member order.
        public var reach: [Reach]

        public init(upstream: UpstreamHealth, decision: DecisionState, reach: [Reach]) {
            self.upstream = upstream
            self.decision = decision
            self.reach = reach
        }
    }

    /// Member names and their fresh views (this node's own view included), in member order.
    public struct Input: Hashable, Sendable {
        public var names: [String]
        public var views: [MemberView?]
        /// This node (its view is always present).
        public var me: Int

        public init(names: [String], views: [MemberView?], me: Int) {
            precondition(names.count == views.count && me < names.count, "one view slot per member")
            self.names = names
            self.views = views
            self.me = me
        }
    }

    /// The diagnosis line.
    public static func diagnose(_ input: Input) -> String {
        let n = input.names.count
        if n <= 1 { return healthLine(input, members: Array(0..<n), lan: "single member") }
        let groups = connectedGroups(input)
        var parts: [String] = []
        let main = groups.max { $0.count < $1.count || ($0.count == $1.count && $0[0] > $1[0]) } ?? []
        let intact = groups.count == 1
        if intact {
            parts.append(healthLine(input, members: Array(0..<n), lan: "LAN intact"))
        } else if main.count > 1, groups.allSatisfy({ $0 == main || $0.count == 1 }) {
            let isolated = groups.filter { $0 != main }.map { input.names[$0[0]] }
            let meIsolated = groups.contains([input.me]) && main.count > 1
            var line = isolated.joined(separator: ", ") + " isolated"
            if meIsolated { line = "this node (\(input.names[input.me])) isolated: no peer reaches it or is reached" }
            parts.append(line)
            let rest = healthLine(input, members: main, lan: nil)
            if rest != "healthy" { parts.append(rest) }
        } else if groups.allSatisfy({ $0.count == 1 }) {
            parts.append(unknownOrSilent(input, groups: groups))
        } else {
            parts.append(
                "partition "
                    + groups.map { "{" + $0.map { input.names[$0] }.joined(separator: ",") + "}" }
                    .joined(separator: " | "))
            let rest = healthLine(input, members: Array(0..<n), lan: nil)
            if rest != "healthy" { parts.append(rest) }
        }
        let healing = (0..<n).filter { [.healing, .waiting].contains(input.views[$0]?.decision) }
        if !healing.isEmpty {
            parts.append(healing.map { "\(input.names[$0]) \(input.views[$0]!.decision)" }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    /// Members grouped by connectivity, each group in member order, groups ordered by their first member.
    public static func connectedGroups(_ input: Input) -> [[Int]] {
        let n = input.names.count
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for i in 0..<n {
            guard let view = input.views[i], view.reach.count == n else { continue }
            for j in 0..<n where j != i && view.reach[j] == .reachable {
                let (a, b) = (find(i), find(j))
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in 0..<n { groups[find(i), default: []].append(i) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// "healthy", "upstream outage: k/k fail upstream, LAN intact" or "upstream failing at n2,n3 (2/5)".
    private static func healthLine(_ input: Input, members: [Int], lan: String?) -> String {
        let known = members.filter { input.views[$0] != nil && input.views[$0]!.upstream != .unknown }
        let failing = known.filter { input.views[$0]!.upstream == .failing }
        let silent = members.filter { input.views[$0] == nil }
        var line: String
        if failing.isEmpty {
            line = "healthy"
            if let lan, lan != "LAN intact" { line += " (\(lan))" }
        } else if failing.count == known.count && known.count >= 2 {
            line = "upstream outage: \(failing.count)/\(known.count) fail upstream" + (lan.map { ", \($0)" } ?? "")
        } else {
            line =
                "upstream failing at " + failing.map { input.names[$0] }.joined(separator: ",")
                + " (\(failing.count)/\(known.count))" + (lan.map { ", \($0)" } ?? "")
        }
        if !silent.isEmpty && lan == "LAN intact" {
            line += "; no fresh view from " + silent.map { input.names[$0] }.joined(separator: ",")
        }
        return line
    }

    /// Every member alone: either nobody knows anything yet (start) or this node hears nobody.
    private static func unknownOrSilent(_ input: Input, groups: [[Int]]) -> String {
        let others = (0..<input.names.count).filter { $0 != input.me }
        let anyFresh = others.contains { input.views[$0] != nil }
        let own = input.views[input.me]?.reach ?? []
        let allUnknown = others.allSatisfy { own.indices.contains($0) && own[$0] == .unknown }
        if !anyFresh && allUnknown { return "starting: no peer heard yet" }
        if !anyFresh { return "this node (\(input.names[input.me])) isolated: no fresh view from any peer" }
        return "no connectivity evidence: " + groups.map { input.names[$0[0]] }.joined(separator: ", ") + " each alone"
    }
}
