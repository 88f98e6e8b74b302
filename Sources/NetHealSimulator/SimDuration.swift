import NetHealCore

/// Durations as scenario files write them: `250ms`, `30s`, `10m`, `1h`, `1m30s`, `0`.
public enum SimDuration {
    /// Parses a duration; nil when malformed.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var total: Int64 = 0
        var number = ""
        var unit = ""
        var any = false
        func flush() -> Bool {
            guard let v = Int64(number), !unit.isEmpty else { return false }
            let scale: Int64
            switch unit {
            case "ns": scale = 1
            case "us": scale = 1_000
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            default: return false
            }
            total += v * scale
            number = ""
            unit = ""
            any = true
            return true
        }
        for c in text {
            if c.isASCII, c.isNumber {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else if c.isASCII, c.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(c)
            } else {
                return nil
            }
        }
        guard flush(), any else { return nil }
        return .nanoseconds(total)
    }

    /// Compact text that `parse` reads back: "1h", "90s", "250ms".
    public static func format(_ d: Duration) -> String {
        let ns = d.nanosecondsClamped
        if ns == 0 { return "0" }
        if ns % 3_600_000_000_000 == 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns % 60_000_000_000 == 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        return "\(ns)ns"
    }

    /// Seconds with millisecond precision for reports: "12.345s".
    public static func seconds(_ ns: Int64) -> String {
        let ms = ns / 1_000_000
        let frac = String(abs(ms % 1000))
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
    }
}

/// A bad `set` line.
struct SettingError: Error {
    var message: String
}

extension HealSettings {
    /// Every field a scenario may `set`, in the order docs/simulation.md lists them.
    static let scenarioKeys = [
        "gossipInterval", "gossipFanout", "relayedViewsPerDatagram", "neighborhoodSize", "peerSilenceTimeout", "viewFreshness",
        "probeInterval", "probeTimeout", "failureRounds", "recoveryRounds", "accuserQuorumFraction",
        "accuserQuorumMinimum", "isolationWindow", "isolationPolicy", "maxConcurrentHeals", "maxConcurrentHealFraction",
        "healIntentDwell", "minHealInterval", "backoffInitial", "backoffMax", "maxHealsPerWindow", "healBudgetWindow",
        "settleTime", "healActionDeadline", "dryRun",
    ]

    /// Applies `set KEY VALUE`.
    mutating func apply(key: String, value: String) throws(SettingError) {
        func dur() throws(SettingError) -> Duration {
            guard let d = SimDuration.parse(value) else { throw SettingError(message: "\(key): `\(value)` is not a duration (e.g. 4s)") }
            return d
        }
        func int() throws(SettingError) -> Int {
            guard let v = Int(value) else { throw SettingError(message: "\(key): `\(value)` is not an integer") }
            return v
        }
        func frac() throws(SettingError) -> Double {
            guard let v = Double(value), v >= 0, v <= 1 else { throw SettingError(message: "\(key): `\(value)` must be 0 … 1") }
            return v
        }
        switch key {
        case "gossipInterval": gossipInterval = try dur()
        case "gossipFanout": gossipFanout = try int()
        case "relayedViewsPerDatagram": relayedViewsPerDatagram = try int()
        case "neighborhoodSize": neighborhoodSize = try int()
        case "peerSilenceTimeout": peerSilenceTimeout = try dur()
        case "viewFreshness": viewFreshness = try dur()
        case "probeInterval": probeInterval = try dur()
        case "probeTimeout": probeTimeout = try dur()
        case "failureRounds": failureRounds = try int()
        case "recoveryRounds": recoveryRounds = try int()
        case "accuserQuorumFraction": accuserQuorumFraction = try frac()
        case "accuserQuorumMinimum": accuserQuorumMinimum = try int()
        case "isolationWindow": isolationWindow = try dur()
        case "isolationPolicy":
            guard let p = IsolationPolicy(rawValue: value) else { throw SettingError(message: "isolationPolicy is heal or hold") }
            isolationPolicy = p
        case "maxConcurrentHeals": maxConcurrentHeals = try int()
        case "maxConcurrentHealFraction": maxConcurrentHealFraction = try frac()
        case "healIntentDwell": healIntentDwell = try dur()
        case "minHealInterval": minHealInterval = try dur()
        case "backoffInitial": backoffInitial = try dur()
        case "backoffMax": backoffMax = try dur()
        case "maxHealsPerWindow": maxHealsPerWindow = try int()
        case "healBudgetWindow": healBudgetWindow = try dur()
        case "settleTime": settleTime = try dur()
        case "healActionDeadline": healActionDeadline = try dur()
        case "dryRun":
            guard let b = Bool(value) else { throw SettingError(message: "dryRun is true or false") }
            dryRun = b
        default:
            throw SettingError(message: "unknown setting `\(key)`; one of \(Self.scenarioKeys.joined(separator: ", "))")
        }
    }

    /// The ranges the simulator needs (the agent's config validation is stricter and lives in NetHealConfig).
    func validateForSimulation() throws(SettingError) {
        if gossipInterval <= .zero || probeInterval <= .zero { throw SettingError(message: "gossipInterval and probeInterval must be positive") }
        if gossipFanout < 1 { throw SettingError(message: "gossipFanout must be ≥ 1") }
        if !(4...128).contains(neighborhoodSize) { throw SettingError(message: "neighborhoodSize must be 4 … 128") }
        if failureRounds < 1 || recoveryRounds < 1 { throw SettingError(message: "failureRounds and recoveryRounds must be ≥ 1") }
        if maxHealsPerWindow < 0 || maxConcurrentHeals < 1 { throw SettingError(message: "maxConcurrentHeals must be ≥ 1, maxHealsPerWindow ≥ 0") }
        if probeTimeout >= probeInterval * 4 { throw SettingError(message: "probeTimeout must be < 4 × probeInterval") }
    }
}
