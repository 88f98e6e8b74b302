import NetHealCore

/// A scenario file error, naming the file and line and saying how to fix it.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    /// "simulations/x.scenario".
    public var file: String
    /// 1-based line (0 = the file as a whole).
    public var line: Int
    /// What is wrong and the fix.
    public var message: String

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

extension Scenario {
    /// Parses scenario text (docs/simulation.md). All-or-nothing: the first error is thrown.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        var parser = ScenarioParser(file: file)
        return try parser.parse(text)
    }
}

/// Line-based parser; the fleet size must come before any line naming members.
struct ScenarioParser {
    let file: String
    var s = Scenario()
    var lineNo = 0
    var fleetSeen = false

    init(file: String) {
        self.file = file
        s.source = file
        let base = file.split(separator: "/").last.map(String.init) ?? file
        s.name = base.hasSuffix(".scenario") ? String(base.dropLast(9)) : base
    }

    func fail(_ message: String) -> ScenarioError { ScenarioError(file: file, line: lineNo, message: message) }

    mutating func parse(_ text: String) throws(ScenarioError) -> Scenario {
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            lineNo = i + 1
            let noComment = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = Self.tokenize(String(noComment))
            guard !words.isEmpty else { continue }
            try parseLine(words, text: words.joined(separator: " "))
        }
        lineNo = 0
        guard fleetSeen else { throw fail("missing `fleet N` line (the number of members)") }
        do { try s.settings.validateForSimulation() } catch { throw fail(error.message) }
        return s
    }

    /// Splits on blanks; `{a, b}` becomes one word.
    static func tokenize(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var depth = 0
        for c in line {
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if (c == " " || c == "\t" || c == "\r"), depth <= 0 {
                if !current.isEmpty { words.append(current); current = "" }
            } else if !(depth > 0 && (c == " " || c == "\t")) {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    mutating func parseLine(_ w: [String], text: String) throws(ScenarioError) {
        switch w[0] {
        case "scenario":
            guard w.count == 2 else { throw fail("expected `scenario NAME` (one word)") }
            s.name = w[1]
        case "seed":
            guard w.count == 2, let v = UInt64(w[1]) else { throw fail("expected `seed N` (an unsigned integer)") }
            s.seed = v
        case "fleet":
            guard w.count == 2, let n = Int(w[1]), n >= 1, n <= 65_535 else {
                throw fail("expected `fleet N` with 1 ≤ N ≤ 65535 (16-bit member indexes on the wire)")
            }
            s.fleetSize = n
            fleetSeen = true
        case "domain":
            guard w.count == 3 else { throw fail("expected `domain NAME MEMBERS`, e.g. `domain rack-a n1..n4`") }
            guard w[1].first?.isLetter == true, !w[1].hasPrefix("n") || Int(w[1].dropFirst()) == nil, w[1] != "all" else {
                throw fail("domain name `\(w[1])` must start with a letter and not look like a member (n3) or `all`")
            }
            s.domains.append((w[1], try set(w[2]).members))
        case "duration":
            guard w.count == 2 else { throw fail("expected `duration D`, e.g. `duration 5m`") }
            s.duration = try duration(w[1])
        case "set":
            guard w.count == 3 else { throw fail("expected `set FIELD VALUE`, e.g. `set failureRounds 3`") }
            do { try s.settings.apply(key: w[1], value: w[2]) } catch { throw fail(error.message) }
            s.settingLines.append((w[1], w[2]))
        case "network":
            s.network = try linkParams(Array(w.dropFirst()), base: s.network)
        case "upstream-loss":
            guard w.count == 2 else { throw fail("expected `upstream-loss P%`") }
            s.upstreamLoss = try probability(w[1])
        case "heal-duration":
            guard w.count == 2 else { throw fail("expected `heal-duration D`") }
            s.healDuration = try duration(w[1])
        case "tick":
            guard w.count == 2 else { throw fail("expected `tick D`") }
            let d = try duration(w[1])
            guard d > .zero else { throw fail("tick must be positive") }
            s.tickInterval = d
        case "signer":
            guard w.count == 2, let k = SignerKind(rawValue: w[1]) else { throw fail("expected `signer ed25519` or `signer fast`") }
            s.signer = k
        case "at":
            try parseFault(w, text: text)
        case "expect":
            try parseExpectation(Array(w.dropFirst()), text: text)
        default:
            throw fail("unknown keyword `\(w[0])`; expected scenario, seed, fleet, domain, duration, set, network,"
                + " upstream-loss, heal-duration, tick, signer, at, expect")
        }
    }

    // MARK: Faults

    mutating func parseFault(_ all: [String], text: String) throws(ScenarioError) {
        guard fleetSeen else { throw fail("`fleet N` must come before the timeline") }
        guard all.count >= 3 else { throw fail("expected `at TIME FAULT …`, e.g. `at 30s wedge n3`") }
        let at = try duration(all[1])
        var w = Array(all.dropFirst(2))
        var lasting: Duration?
        if w.count >= 2, w[w.count - 2] == "for" {
            lasting = try duration(w[w.count - 1])
            w.removeLast(2)
        }
        let fault: Fault
        switch w[0] {
        case "wedge":
            guard w.count >= 2 else { throw fail("expected `wedge MEMBERS [tx|rx] [hard]`") }
            var mode = WedgeMode.both
            var hard = false
            for word in w.dropFirst(2) {
                if word == "hard" { hard = true } else if let m = WedgeMode(rawValue: word) { mode = m } else {
                    throw fail("unknown wedge option `\(word)`; use tx, rx, both or hard")
                }
            }
            fault = .wedge(try set(w[1]), mode: mode, hard: hard)
        case "unwedge":
            guard w.count == 2 else { throw fail("expected `unwedge MEMBERS`") }
            fault = .unwedge(try set(w[1]))
        case "upstream-outage":
            guard w.count == 2 else { throw fail("expected `upstream-outage MEMBERS` (all, a domain, n3, …)") }
            fault = .upstreamOutage(try set(w[1]))
        case "uplink-loss":
            guard w.count == 2 else { throw fail("expected `uplink-loss DOMAIN`") }
            fault = .uplinkLoss(try set(w[1]))
        case "partition":
            fault = .partition(try partition(Array(w.dropFirst())))
        case "heal-network":
            fault = .healNetwork
        case "link":
            guard w.count >= 4, w[2] == "->" else { throw fail("expected `link FROM -> TO latency A..B loss P …`") }
            fault = .link(from: try set(w[1]), to: try set(w[3]), params: try linkParams(Array(w.dropFirst(4)), base: s.network))
        case "flap":
            if w.count == 7, w[1] == "link", w[3] == "|", w[5] == "period" {
                fault = .flapLink(try set(w[2]), try set(w[4]), period: try duration(w[6]))
            } else if w.count == 5, w[1] == "upstream", w[3] == "period" {
                fault = .flap(try set(w[2]), upstream: true, period: try duration(w[4]))
            } else if w.count == 4, w[2] == "period" {
                fault = .flap(try set(w[1]), upstream: false, period: try duration(w[3]))
            } else {
                throw fail("expected `flap upstream MEMBERS period D`, `flap MEMBERS period D` or `flap link A | B period D`")
            }
            if case .flap(_, _, let p) = fault, p < .milliseconds(2) { throw fail("flap period must be ≥ 2ms") }
            if case .flapLink(_, _, let p) = fault, p < .milliseconds(2) { throw fail("flap period must be ≥ 2ms") }
            guard lasting != nil else { throw fail("a flap needs `for D` (how long it flaps)") }
        case "crash":
            guard w.count == 2 || (w.count == 3 && w[2] == "when-healing") else {
                throw fail("expected `crash MEMBERS [when-healing] [for D]`")
            }
            fault = .crash(try set(w[1]), whenHealing: w.count == 3)
            if lasting == nil { lasting = .seconds(5) }
        case "skew":
            guard w.count == 3 else { throw fail("expected `skew MEMBERS +1h` (or -30s)") }
            let sign: Int64 = w[2].hasPrefix("-") ? -1 : 1
            let body = w[2].hasPrefix("-") || w[2].hasPrefix("+") ? String(w[2].dropFirst()) : w[2]
            fault = .skew(try set(w[1]), millis: sign * (try duration(body)).millisecondsClamped)
        case "replay", "stale":
            guard w.count == 4 || (w.count == 6 && w[4] == "count"), w[2] == "->" else {
                throw fail("expected `\(w[0]) FROM -> TO [count N]`")
            }
            var count = 1
            if w.count == 6 {
                guard let c = Int(w[5]), c >= 1, c <= 64 else { throw fail("count must be 1 … 64") }
                count = c
            }
            fault = .replay(from: try set(w[1]), to: try set(w[3]), count: count, stale: w[0] == "stale")
        case "forge":
            guard w.count == 4, w[2] == "->" else { throw fail("expected `forge FROM -> TO`") }
            fault = .forge(from: try set(w[1]), to: try set(w[3]))
        default:
            throw fail("unknown fault `\(w[0])`; expected wedge, unwedge, upstream-outage, uplink-loss, partition,"
                + " heal-network, link, flap, crash, skew, replay, stale, forge")
        }
        s.faults.append(TimedFault(at: at, fault: fault, duration: lasting, line: lineNo, text: text))
    }

    func partition(_ w: [String]) throws(ScenarioError) -> PartitionShape {
        guard let first = w.first else { throw fail("expected a partition shape after `partition`") }
        switch first {
        case "one-way":
            guard w.count == 4, w[2] == "->" else { throw fail("expected `partition one-way FROM -> TO`") }
            return .oneWay(from: try set(w[1]), to: try set(w[3]))
        case "isolate":
            guard w.count == 2 else { throw fail("expected `partition isolate MEMBERS`") }
            return .isolate(try set(w[1]))
        case "bridge":
            guard w.count == 6, w[2] == "|", w[4] == "via" else {
                throw fail("expected `partition bridge SIDE | SIDE via BRIDGE`")
            }
            return .bridge(try set(w[1]), try set(w[3]), via: try set(w[5]))
        case "ring":
            guard w.count == 1 else { throw fail("`partition ring` takes no arguments") }
            return .ring
        case "random":
            guard w.count == 1 else { throw fail("`partition random` takes no arguments") }
            return .random
        default:
            var groups: [NodeSet] = []
            var expectSet = true
            for word in w {
                if expectSet { groups.append(try set(word)) } else if word != "|" {
                    throw fail("expected `|` between partition groups, found `\(word)`")
                }
                expectSet.toggle()
            }
            guard groups.count >= 2, !expectSet else { throw fail("expected `partition A | B [| C …]`") }
            return .groups(groups)
        }
    }

    // MARK: Expectations

    mutating func parseExpectation(_ w: [String], text: String) throws(ScenarioError) {
        guard fleetSeen else { throw fail("`fleet N` must come before expectations") }
        let kind: Expectation.Kind
        if w.count >= 2, w[0] == "no", w[1] == "heal" {
            if w.count == 2 { kind = .noHeal(except: nil) } else if w.count == 4, w[2] == "except" {
                kind = .noHeal(except: try set(w[3]))
            } else { throw fail("expected `expect no heal [except MEMBERS]`") }
        } else if w.count == 7, w[0] == "at-most", w[2] == "heal" || w[2] == "heals", w[3] == "per", w[4] == "node",
            w[5] == "per"
        {
            guard let n = Int(w[1]), n >= 0 else { throw fail("expected a count after at-most") }
            kind = .atMostPerNode(n, window: try duration(w[6]))
        } else if w.count == 4, w[0] == "rejected", w[2] == "at-least" {
            guard let n = Int(w[3]), n >= 0 else { throw fail("expected a count after at-least") }
            let reasons = ["oversize", "truncated", "bad_magic", "bad_version", "no_views", "unknown_cluster",
                "unknown_origin", "duplicate_origin", "bad_upstream_health", "bad_decision_state",
                "member_count_mismatch", "nonzero_padding", "bad_self_slot", "trailing_bytes", "replayed", "bad_signature"]
            guard reasons.contains(w[1]) else { throw fail("unknown rejection reason `\(w[1])`; one of \(reasons.joined(separator: ", "))") }
            kind = .rejected(reason: w[1], atLeast: n)
        } else if w.count >= 4, w[1] == "heals" || w[1] == "heal" {
            guard let cmp = Comparison(rawValue: w[2]), let n = Int(w[3]), n >= 0 else {
                throw fail("expected `expect MEMBERS heals exactly|at-least|at-most N [within D of wedge]`")
            }
            var within: Duration?
            if w.count == 8, w[4] == "within", w[6] == "of", w[7] == "wedge" {
                within = try duration(w[5])
            } else if w.count != 4 {
                throw fail("expected `… heals \(w[2]) \(w[3])` optionally followed by `within D of wedge`")
            }
            kind = .heals(w[0] == "all" ? nil : try set(w[0]), cmp, n, within: within)
        } else {
            throw fail("unknown expectation; expected `no heal [except M]`, `M heals exactly|at-least|at-most N"
                + " [within D of wedge]`, `at-most N heal per node per D` or `rejected REASON at-least N`")
        }
        s.expectations.append(Expectation(kind: kind, line: lineNo, text: text))
    }

    // MARK: Values

    func set(_ word: String) throws(ScenarioError) -> NodeSet {
        var members: [Int] = []
        let parts: [Substring] =
            word.hasPrefix("{") && word.hasSuffix("}")
            ? word.dropFirst().dropLast().split(separator: ",") : [word[...]]
        guard !parts.isEmpty else { throw fail("empty member set `\(word)`") }
        for part in parts {
            let p = String(part)
            if p == "all" {
                members += Array(0..<s.fleetSize)
            } else if let d = s.domains.first(where: { $0.name == p }) {
                members += d.members
            } else if let r = p.range(of: "..") {
                let a = try member(String(p[..<r.lowerBound]))
                let b = try member(String(p[r.upperBound...]))
                guard a <= b else { throw fail("range `\(p)` runs backwards") }
                members += Array(a...b)
            } else {
                members.append(try member(p))
            }
        }
        return NodeSet(members: members, text: word)
    }

    func member(_ word: String) throws(ScenarioError) -> Int {
        guard word.hasPrefix("n"), let k = Int(word.dropFirst()), k >= 1 else {
            throw fail("`\(word)` is not a member (n1 … n\(s.fleetSize)), `all` or a domain declared above")
        }
        guard k <= s.fleetSize else { throw fail("member `\(word)` is outside the fleet of \(s.fleetSize) (n1 … n\(s.fleetSize))") }
        return k - 1
    }

    func duration(_ word: String) throws(ScenarioError) -> Duration {
        guard let d = SimDuration.parse(word) else {
            throw fail("`\(word)` is not a duration; write e.g. 250ms, 30s, 10m, 1h (also 1m30s)")
        }
        return d
    }

    func probability(_ word: String) throws(ScenarioError) -> Double {
        let body = word.hasSuffix("%") ? String(word.dropLast()) : word
        guard let v = Double(body), v >= 0 else { throw fail("`\(word)` is not a probability; write e.g. 20% or 0.2") }
        let p = word.hasSuffix("%") ? v / 100 : v
        guard p <= 1 else { throw fail("probability `\(word)` is above 100%") }
        return p
    }

    func linkParams(_ w: [String], base: LinkParams) throws(ScenarioError) -> LinkParams {
        var p = base
        guard w.count % 2 == 0, !w.isEmpty else {
            throw fail("expected pairs like `latency 1ms..5ms loss 20% dup 1% reorder 5%`")
        }
        for k in stride(from: 0, to: w.count, by: 2) {
            switch w[k] {
            case "latency":
                guard let r = w[k + 1].range(of: "..") else { throw fail("latency is `MIN..MEAN`, e.g. 1ms..5ms") }
                p.latencyMin = try duration(String(w[k + 1][..<r.lowerBound]))
                p.latencyMean = try duration(String(w[k + 1][r.upperBound...]))
                guard p.latencyMin <= p.latencyMean else { throw fail("latency MIN must not exceed MEAN") }
            case "loss": p.loss = try probability(w[k + 1])
            case "dup": p.duplicate = try probability(w[k + 1])
            case "reorder": p.reorder = try probability(w[k + 1])
            default: throw fail("unknown network field `\(w[k])`; use latency, loss, dup, reorder")
            }
        }
        return p
    }
}
