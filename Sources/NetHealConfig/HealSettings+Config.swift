import NetHealCore
import Yams

/// The `protocol:` section of the cluster file: every `HealSettings` field in snake_case, with its
/// allowed range. Cross-field rules are in `checkRelations`.
enum ProtocolSection {
    /// How a field is read and where it goes.
    enum Kind {
        case duration(WritableKeyPath<HealSettings, Duration>, ClosedRange<Duration>)
        case int(WritableKeyPath<HealSettings, Int>, ClosedRange<Int>)
        case fraction(WritableKeyPath<HealSettings, Double>)
        case bool(WritableKeyPath<HealSettings, Bool>)
        case isolationPolicy
    }

    /// Every key of the section, in documentation order.
    static var fields: [(key: String, kind: Kind)] {
        [
            ("gossip_interval", .duration(\.gossipInterval, .milliseconds(100)...(.seconds(60)))),
            ("gossip_fanout", .int(\.gossipFanout, 1...ClusterLimits.maximumMembers)),
            ("relayed_views_per_datagram", .int(\.relayedViewsPerDatagram, 0...8)),
            ("neighborhood_size", .int(\.neighborhoodSize, 4...128)),
            ("peer_silence_timeout", .duration(\.peerSilenceTimeout, .milliseconds(200)...(.seconds(600)))),
            ("view_freshness", .duration(\.viewFreshness, .milliseconds(200)...(.seconds(3600)))),
            ("probe_interval", .duration(\.probeInterval, .milliseconds(100)...(.seconds(60)))),
            ("probe_timeout", .duration(\.probeTimeout, .milliseconds(10)...(.seconds(60)))),
            ("failure_rounds", .int(\.failureRounds, 1...100)),
            ("recovery_rounds", .int(\.recoveryRounds, 1...100)),
            ("accuser_quorum_fraction", .fraction(\.accuserQuorumFraction)),
            ("accuser_quorum_minimum", .int(\.accuserQuorumMinimum, 1...ClusterLimits.maximumMembers)),
            ("isolation_window", .duration(\.isolationWindow, .milliseconds(200)...(.seconds(3600)))),
            ("isolation_policy", .isolationPolicy),
            ("max_concurrent_heals", .int(\.maxConcurrentHeals, 1...ClusterLimits.maximumMembers)),
            ("max_concurrent_heal_fraction", .fraction(\.maxConcurrentHealFraction)),
            ("heal_intent_dwell", .duration(\.healIntentDwell, .milliseconds(100)...(.seconds(300)))),
            ("min_heal_interval", .duration(\.minHealInterval, .seconds(1)...DurationText.maximum)),
            ("backoff_initial", .duration(\.backoffInitial, .seconds(1)...DurationText.maximum)),
            ("backoff_max", .duration(\.backoffMax, .seconds(1)...DurationText.maximum)),
            ("max_heals_per_window", .int(\.maxHealsPerWindow, 1...1000)),
            ("heal_budget_window", .duration(\.healBudgetWindow, .seconds(1)...DurationText.maximum)),
            ("settle_time", .duration(\.settleTime, .seconds(1)...(.seconds(3600)))),
            ("heal_action_deadline", .duration(\.healActionDeadline, .seconds(2)...(.seconds(3600)))),
            ("dry_run", .bool(\.dryRun)),
        ]
    }

    /// Reads the section (defaults for absent keys) and checks every range and relation.
    static func read(_ node: Node?, memberCount: Int?, problems: ProblemCollector) -> HealSettings? {
        var settings = HealSettings()
        guard let node else { return settings }
        let before = problems.problems.count
        guard let reader = MappingReader(node, path: "protocol", known: fields.map(\.key), problems: problems, what: "the protocol settings")
        else { return nil }
        var valid: Set<String> = []
        for (key, kind) in fields where reader.has(key) {
            switch kind {
            case .duration(let path, let range):
                if let value = reader.duration(key, in: range) { settings[keyPath: path] = value; valid.insert(key) }
            case .int(let path, let range):
                if let value = reader.int(key, in: range) { settings[keyPath: path] = value; valid.insert(key) }
            case .fraction(let path):
                if let value = reader.fraction(key) { settings[keyPath: path] = value; valid.insert(key) }
            case .bool(let path):
                if let value = reader.bool(key) { settings[keyPath: path] = value; valid.insert(key) }
            case .isolationPolicy:
                if let value = reader.choice(key, IsolationPolicy.self) { settings.isolationPolicy = value; valid.insert(key) }
            }
        }
        checkRelations(settings, reader: reader, valid: valid, memberCount: memberCount)
        return problems.problems.count == before ? settings : nil
    }

    /// Rules between fields. A rule is checked only when every field it names is valid on its own
    /// (given and valid, or defaulted); it is reported at the last given field it names.
    private static func checkRelations(_ s: HealSettings, reader: MappingReader, valid: Set<String>, memberCount: Int?) {
        func rule(_ keys: [String], _ holds: Bool, _ message: @autoclosure () -> String) {
            guard !holds else { return }
            guard keys.allSatisfy({ valid.contains($0) || !reader.has($0) }) else { return }
            let given = keys.filter { reader.has($0) }
            let at = given.max { reader.valueMark($0) < reader.valueMark($1) }
            reader.problems.add(at.map { reader.valueMark($0) } ?? reader.mark, reader.field(at ?? keys[0]), message())
        }
        let f = DurationText.format
        rule(
            ["peer_silence_timeout", "gossip_interval"], s.peerSilenceTimeout >= s.gossipInterval * 2,
            "peer_silence_timeout (\(f(s.peerSilenceTimeout))) must be at least twice gossip_interval (\(f(s.gossipInterval))), or one lost datagram marks a peer unreachable — raise peer_silence_timeout or lower gossip_interval")
        rule(
            ["view_freshness", "peer_silence_timeout"], s.viewFreshness >= s.peerSilenceTimeout,
            "view_freshness (\(f(s.viewFreshness))) must be at least peer_silence_timeout (\(f(s.peerSilenceTimeout))), or views expire before the silence they report — raise view_freshness")
        rule(
            ["probe_timeout", "probe_interval"], s.probeTimeout < s.probeInterval,
            "probe_timeout (\(f(s.probeTimeout))) must be shorter than probe_interval (\(f(s.probeInterval))), or probe rounds overlap — lower probe_timeout or raise probe_interval")
        rule(
            ["isolation_window", "peer_silence_timeout"], s.isolationWindow >= s.peerSilenceTimeout,
            "isolation_window (\(f(s.isolationWindow))) must be at least peer_silence_timeout (\(f(s.peerSilenceTimeout))), or a node counts as isolated before its peers count as silent — raise isolation_window")
        rule(
            ["backoff_max", "backoff_initial"], s.backoffMax >= s.backoffInitial,
            "backoff_max (\(f(s.backoffMax))) must be at least backoff_initial (\(f(s.backoffInitial))) — raise backoff_max")
        rule(
            ["settle_time", "probe_interval", "recovery_rounds"], s.settleTime >= s.probeInterval * s.recoveryRounds,
            "settle_time (\(f(s.settleTime))) must be at least probe_interval × recovery_rounds (\(f(s.probeInterval * s.recoveryRounds))), or a heal is judged before the probes can see it worked — raise settle_time")
        rule(
            ["min_heal_interval", "settle_time"], s.minHealInterval >= s.settleTime,
            "min_heal_interval (\(f(s.minHealInterval))) must be at least settle_time (\(f(s.settleTime))), or a second heal starts before the first is judged — raise min_heal_interval")
        rule(
            ["heal_intent_dwell", "gossip_interval"], s.healIntentDwell >= s.gossipInterval,
            "heal_intent_dwell (\(f(s.healIntentDwell))) must be at least gossip_interval (\(f(s.gossipInterval))), or peers may not see the intent before the heal starts — raise heal_intent_dwell")
        rule(
            ["heal_budget_window", "min_heal_interval"], s.healBudgetWindow >= s.minHealInterval,
            "heal_budget_window (\(f(s.healBudgetWindow))) must be at least min_heal_interval (\(f(s.minHealInterval))) — raise heal_budget_window")
        if let memberCount, memberCount > 1 {
            rule(
                ["accuser_quorum_minimum"], s.accuserQuorumMinimum <= memberCount - 1,
                "accuser_quorum_minimum (\(s.accuserQuorumMinimum)) exceeds the \(memberCount - 1) peers this \(memberCount)-member cluster has, so no node could ever be accused — lower it")
        }
    }
}
