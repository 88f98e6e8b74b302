/// One node of a fleet as the operator's plain node list gives it (`fleet init`).
public struct BootstrapNode: Hashable, Sendable {
    /// Member name, e.g. `n1`.
    public var name: String
    /// Gossip addresses in list order: data first, then management (1 to 4).
    public var addresses: [HostPort]
    /// Failure domain (rack, row, power feed), or nil.
    public var failureDomain: String?
    /// 1-based line in the node list.
    public var line: Int

    public init(name: String, addresses: [HostPort], failureDomain: String?, line: Int) {
        self.name = name
        self.addresses = addresses
        self.failureDomain = failureDomain
        self.line = line
    }
}

/// Parses the plain node list `fleet init` reads: one node per line,
/// `NAME DATA_ADDR[,MGMT_ADDR…] [FAILURE_DOMAIN]`; `#` starts a comment; blank lines are ignored.
///
/// An address is an IP literal with an optional port (`198.18.1.11`, `198.18.1.11:7474`,
/// `2001:db8::11`, `[2001:db8::11]:7474`); without a port it gets `defaultPort` (default 7474).
public enum BootstrapNodeList {
    /// The gossip port used when an address has none.
    public static let defaultPort: UInt16 = 7474

    /// The nodes of `text`, or every problem found (each naming `path`, line and column).
    public static func parse(_ text: String, path: String, defaultPort: UInt16 = defaultPort) throws(ConfigProblems)
        -> [BootstrapNode]
    {
        var problems: [ConfigProblem] = []
        var nodes: [BootstrapNode] = []
        var firstName: [String: Int] = [:]
        var firstAddress: [HostPort: (line: Int, name: String)] = [:]
        func problem(_ line: Int, _ column: Int, _ field: String, _ message: String) {
            problems.append(ConfigProblem(file: path, line: line, column: column, field: field, message: message))
        }
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let content = rawLine.prefix { $0 != "#" }
            let fields = Self.fields(of: content)
            if fields.isEmpty { continue }
            let usage = "write `NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN]`, e.g. `n1 198.18.1.11,198.18.2.11 rack-a`"
            guard fields.count <= 3 else {
                problem(line, fields[3].column, "", "\(fields.count) fields, at most 3 expected — \(usage)")
                continue
            }
            guard fields.count >= 2 else {
                problem(line, fields[0].column, "", "missing the address after `\(fields[0].text)` — \(usage)")
                continue
            }
            var ok = true
            let name = fields[0].text
            if let why = NameRules.problem(name) {
                problem(line, fields[0].column, "name", why)
                ok = false
            } else if let first = firstName[name] {
                problem(
                    line, fields[0].column, "name",
                    "duplicate node `\(name)` (first at line \(first)) — every node needs its own name")
                ok = false
            } else {
                firstName[name] = line
            }
            let addressTexts = fields[1].text.split(separator: ",", omittingEmptySubsequences: false)
            var addresses: [HostPort] = []
            if addressTexts.count > ClusterLimits.maximumAddressesPerMember {
                problem(
                    line, fields[1].column, "addresses",
                    "\(addressTexts.count) addresses, at most \(ClusterLimits.maximumAddressesPerMember) per node — keep the data and management addresses"
                )
                ok = false
            }
            for text in addressTexts where ok {
                switch address(String(text), defaultPort: defaultPort) {
                case .failure(let error):
                    problem(line, fields[1].column, "addresses", "bad address `\(text)`: \(error)")
                    ok = false
                case .success(let address):
                    if address.address.isUnspecified || address.address.isMulticastOrBroadcast
                        || address.address.isLoopback
                    {
                        problem(
                            line, fields[1].column, "addresses",
                            "`\(text)` is not a unicast address other nodes can reach — give the node's data or management address"
                        )
                        ok = false
                    } else if let first = firstAddress[address] {
                        let whose = first.name == name ? "this node" : "node `\(first.name)`"
                        problem(
                            line, fields[1].column, "addresses",
                            "duplicate address \(address): already used by \(whose) (line \(first.line)) — every gossip address must be unique"
                        )
                        ok = false
                    } else {
                        firstAddress[address] = (line, name)
                        addresses.append(address)
                    }
                }
            }
            var domain: String?
            if fields.count == 3 {
                domain = fields[2].text
                if let why = NameRules.problem(fields[2].text) {
                    problem(line, fields[2].column, "failure_domain", why)
                    ok = false
                }
            }
            if ok { nodes.append(BootstrapNode(name: name, addresses: addresses, failureDomain: domain, line: line)) }
        }
        if problems.isEmpty && nodes.isEmpty {
            problems.append(
                ConfigProblem(
                    file: path, line: nil, column: nil, field: "",
                    message: "no nodes listed — write one line per node: `NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN]`")
            )
        }
        if nodes.count > ClusterLimits.maximumMembers {
            problems.append(
                ConfigProblem(
                    file: path, line: nil, column: nil, field: "",
                    message:
                        "\(nodes.count) nodes exceed the limit of \(ClusterLimits.maximumMembers) members per cluster — split the fleet into several clusters (one list each)"
                ))
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return nodes
    }

    /// An address with an optional port: `IPv4[:port]`, `IPv6`, `[IPv6][:port]`.
    static func address(_ text: String, defaultPort: UInt16) -> Result<HostPort, HostPortError> {
        if text.isEmpty { return .failure(.malformed("empty address (two commas, or a trailing comma?)")) }
        if text.hasPrefix("[") {
            return text.hasSuffix("]") ? HostPort.parse(text + ":\(defaultPort)") : HostPort.parse(text)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 0 { return HostPort.parse(text + ":\(defaultPort)") }
        if colons == 1 { return HostPort.parse(text) }
        // Bare IPv6 literal (no port).
        guard let ip = IPAddress(text), !ip.isIPv4 else {
            return .failure(.malformed("`\(text)` is not an IPv6 address; with a port write `[2001:db8::1]:7474`"))
        }
        return .success(HostPort(address: ip, port: defaultPort))
    }

    /// Whitespace-separated fields with their 1-based columns.
    private static func fields(of line: Substring) -> [(text: String, column: Int)] {
        var out: [(text: String, column: Int)] = []
        var current = ""
        var start = 0
        for (i, c) in line.enumerated() {
            if c == " " || c == "\t" || c == "\r" {
                if !current.isEmpty { out.append((current, start + 1)) }
                current = ""
            } else {
                if current.isEmpty { start = i }
                current.append(c)
            }
        }
        if !current.isEmpty { out.append((current, start + 1)) }
        return out
    }
}
