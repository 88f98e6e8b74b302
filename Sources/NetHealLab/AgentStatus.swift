import Foundation

/// What the lab reads from `netheal-cluster status --json`: the node's decision state, the rule and
/// reason behind it, and the fleet diagnosis. Read leniently (the lab only reports these; every
/// assertion about cycles uses the lab's own link watchers).
public struct AgentStatus: Sendable, Hashable {
    /// Decision state, e.g. `healthy`, `hold`, `healing`.
    public var state: String?
    /// The rule behind it, e.g. `upstream-outage-hold`.
    public var rule: String?
    /// The reason line.
    public var reason: String?
    /// The one-line fleet diagnosis, e.g. `upstream outage: 5/5 fail upstream, LAN intact`.
    public var diagnosis: String?
    /// The most recent heal's reason and outcome (`heals[]`), if any.
    public var lastHeal: String?
    /// How this agent reaches each member (`members[].reach`: `reachable`, `unreachable`, …), by name.
    public var reach: [String: String] = [:]

    /// The agent's counters (`counters`): numbers by name, `rejected` by reason as `rejected.REASON`.
    public var counters: [String: Int] = [:]
    /// Number of heals listed (`heals[]`).
    public var healCount = 0

    /// Parses the JSON object; nil when it is not one.
    public init?(json: String) {
        guard let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        self.init(object: object)
    }

    /// Reads an already parsed status object.
    public init(object: [String: Any]) {
        // The agent's layout is {"decision": {"state", "rule", "reason", …}, "diagnosis": …, …};
        // the decision object is searched first, then everything else.
        let decision = object["decision"] as? [String: Any] ?? [:]
        state =
            Self.find(["state"], in: decision) ?? Self.find(["state", "decision_state", "decisionState"], in: object)
        rule = Self.find(["rule"], in: decision) ?? Self.find(["rule"], in: object)
        reason = Self.find(["reason"], in: decision) ?? Self.find(["reason"], in: object)
        diagnosis = Self.find(["diagnosis", "fleet_diagnosis", "fleetDiagnosis"], in: object)
        for (key, value) in object["counters"] as? [String: Any] ?? [:] {
            if let number = value as? Int { counters[key] = number }
            for (reason, count) in value as? [String: Any] ?? [:] {
                if let count = count as? Int { counters["\(key).\(reason)"] = count }
            }
        }
        healCount = (object["heals"] as? [Any])?.count ?? 0
        if let heal = (object["heals"] as? [[String: Any]])?.last, let reason = heal["reason"] as? String {
            lastHeal = reason + ((heal["outcome"] as? String).map { " → \($0)" } ?? "")
        }
        for member in object["members"] as? [[String: Any]] ?? [] {
            if let name = member["name"] as? String, let reach = member["reach"] as? String { self.reach[name] = reach }
        }
    }

    public init(state: String?, rule: String?, reason: String?, diagnosis: String?) {
        self.state = state
        self.rule = rule
        self.reason = reason
        self.diagnosis = diagnosis
    }

    /// The first string value under one of `keys`: at the top level, then in nested objects
    /// (`self`, `node`, `decision`, …) in sorted key order, breadth first.
    static func find(_ keys: [String], in object: [String: Any]) -> String? {
        var queue: [[String: Any]] = [object]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for key in keys {
                if let value = current[key] as? String { return value }
            }
            for key in current.keys.sorted() {
                if let nested = current[key] as? [String: Any] { queue.append(nested) }
            }
        }
        return nil
    }

    /// `hold (upstream-outage-hold): own probes fail and …`.
    public var summary: String {
        var text = state ?? "?"
        if let rule { text += " (\(rule))" }
        if let reason { text += ": \(reason)" }
        return text
    }
}
