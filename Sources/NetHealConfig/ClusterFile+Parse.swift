import NetHealCore
import Yams

/// Interprets the cluster file.
enum ClusterFile {
    /// The top-level keys of a cluster file.
    static let keys = ["cluster_id", "members", "protocol"]
    /// The keys of one member.
    static let memberKeys = ["name", "addresses", "public_key", "next_public_key", "failure_domain"]

    /// The validated cluster configuration of `bytes`, or nil with every problem recorded.
    static func parse(_ bytes: [UInt8], path: String, problems: ProblemCollector) -> ClusterConfiguration? {
        guard let root = YAMLSource.compose(bytes, problems: problems) else { return nil }
        return parse(root: root, bytes: bytes, path: path, problems: problems)
    }

    static func parse(root: Node, bytes: [UInt8], path: String, problems: ProblemCollector) -> ClusterConfiguration? {
        guard let top = MappingReader(root, path: "", known: keys, problems: problems, what: "a cluster file") else { return nil }

        var clusterID: String?
        if top.required("cluster_id", example: "prod-eu1") != nil, let id = top.string("cluster_id") {
            if !ClusterLimits.clusterIDBytes.contains(id.utf8.count) {
                problems.add(top.valueMark("cluster_id"), "cluster_id", "must be 1 to 64 bytes of UTF-8, got \(id.utf8.count) — shorten it")
            } else if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.add(top.valueMark("cluster_id"), "cluster_id", "must not contain control characters — use letters, digits and `-`")
            } else {
                clusterID = id
            }
        }

        var members: [ClusterConfiguration.Member]?
        if let node = top.required("members", example: "[ {name: n1, addresses: [\"198.18.0.1:7946\"], public_key: \"ed25519:…\"} ]") {
            members = readMembers(node, problems: problems)
        }

        let settings = ProtocolSection.read(top["protocol"], memberCount: members?.count, problems: problems)

        guard problems.isEmpty, let clusterID, let members, let settings else { return nil }
        return ClusterConfiguration(path: path, clusterID: clusterID, members: members, settings: settings, fileBytes: bytes)
    }

    // MARK: Members

    private static func readMembers(_ node: Node, problems: ProblemCollector) -> [ClusterConfiguration.Member]? {
        guard case .sequence(let sequence) = node else {
            problems.add(node.sourceMark, "members", "expected a list of members (`- name: …` items), got \(node.shortDescription)")
            return nil
        }
        guard !sequence.isEmpty else {
            problems.add(node.sourceMark, "members", "the cluster has no members — list every node of the fleet")
            return nil
        }
        if sequence.count > ClusterLimits.maximumMembers {
            problems.add(
                node.sourceMark, "members",
                "\(sequence.count) members exceed the limit of \(ClusterLimits.maximumMembers) (member indexes are 16-bit on the wire) — split the fleet into several clusters, e.g. one per site")
        }
        var result: [ClusterConfiguration.Member] = []
        var complete = true
        var firstName: [String: SourceMark] = [:]
        var firstAddress: [HostPort: (mark: SourceMark, member: String)] = [:]
        var firstKey: [[UInt8]: (mark: SourceMark, member: String)] = [:]
        for (i, item) in sequence.enumerated() {
            let path = "members[\(i)]"
            guard let m = MappingReader(item, path: path, known: memberKeys, problems: problems, what: "a member") else {
                complete = false
                continue
            }
            let name = readName(m)
            let label = name ?? path
            if let name {
                if let first = firstName[name] {
                    problems.add(m.valueMark("name"), m.field("name"), "duplicate member name `\(name)` (first at line \(first.line)) — every member needs its own name")
                } else {
                    firstName[name] = m.valueMark("name")
                }
            }
            let addresses = readAddresses(m, member: label, seen: &firstAddress)
            var publicKey: [UInt8]?
            if m.required("public_key", example: "ed25519:<64 hex digits printed by netheal-cluster keygen>") != nil,
                let text = m.string("public_key")
            {
                switch PublicKeyParsing.parse(text) {
                case .success(let key):
                    if let first = firstKey[key] {
                        problems.add(
                            m.valueMark("public_key"), m.field("public_key"),
                            "the same public key as member `\(first.member)` (line \(first.mark.line)) — each node needs its own key: run `netheal-cluster keygen` on this node")
                    } else {
                        firstKey[key] = (m.valueMark("public_key"), label)
                    }
                    publicKey = key
                case .failure(let error):
                    problems.add(m.valueMark("public_key"), m.field("public_key"), error.description)
                }
            }
            var nextPublicKey: [UInt8]?
            var nextKeyOK = true
            if m.has("next_public_key") {
                nextPublicKey = readNextKey(m, member: label, publicKey: publicKey, seen: &firstKey)
                nextKeyOK = nextPublicKey != nil
            }
            var failureDomain: String?
            var domainOK = true
            if m.has("failure_domain") {
                failureDomain = m.string("failure_domain")
                if let domain = failureDomain, let why = NameRules.problem(domain) {
                    problems.add(m.valueMark("failure_domain"), m.field("failure_domain"), why)
                    failureDomain = nil
                }
                domainOK = failureDomain != nil
            }
            if let name, let addresses, let publicKey, nextKeyOK, domainOK {
                result.append(.init(
                    name: name, addresses: addresses, publicKey: publicKey, failureDomain: failureDomain,
                    nextPublicKey: nextPublicKey))
            } else {
                complete = false
            }
        }
        return complete ? result : nil
    }

    /// The member's `next_public_key` (key rotation, docs/key-rotation.md): well-formed, not the
    /// member's own `public_key`, and not any other member's key (current or next).
    private static func readNextKey(
        _ m: MappingReader, member: String, publicKey: [UInt8]?, seen: inout [[UInt8]: (mark: SourceMark, member: String)]
    ) -> [UInt8]? {
        guard let text = m.string("next_public_key") else { return nil }
        let mark = m.valueMark("next_public_key")
        let field = m.field("next_public_key")
        switch PublicKeyParsing.parse(text) {
        case .failure(let error):
            m.problems.add(mark, field, error.description)
            return nil
        case .success(let key):
            if key == publicKey {
                m.problems.add(
                    mark, field,
                    "equals this member's public_key — next_public_key is the new key of a rotation: put the key printed by `netheal-cluster keygen --out node.key.new` on this node here, or remove next_public_key")
                return nil
            }
            if let first = seen[key] {
                m.problems.add(
                    mark, field,
                    "the same public key as member `\(first.member)` (line \(first.mark.line)) — each node needs its own key: run `netheal-cluster keygen --out node.key.new` on this node")
                return nil
            }
            seen[key] = (mark, member)
            return key
        }
    }

    private static func readName(_ m: MappingReader) -> String? {
        guard m.required("name", example: "n1") != nil, let name = m.string("name") else { return nil }
        if let why = NameRules.problem(name) {
            m.problems.add(m.valueMark("name"), m.field("name"), why)
            return nil
        }
        return name
    }

    private static func readAddresses(
        _ m: MappingReader, member: String, seen: inout [HostPort: (mark: SourceMark, member: String)]
    ) -> [HostPort]? {
        guard let node = m.required("addresses", example: "[\"198.18.0.1:7946\", \"198.19.0.1:7946\"]") else { return nil }
        guard let items = Scalars.list(node, maximumCount: ClusterLimits.maximumAddressesPerMember, field: m.field("addresses"), problems: m.problems)
        else { return nil }
        guard !items.isEmpty else {
            m.problems.add(node.sourceMark, m.field("addresses"), "needs at least one `host:port` gossip address")
            return nil
        }
        var result: [HostPort] = []
        for (item, field) in items {
            guard let text = Scalars.string(item, field: field, problems: m.problems) else { continue }
            switch HostPort.parse(text) {
            case .failure(let error):
                m.problems.add(item.sourceMark, field, "bad address `\(text)`: \(error)")
            case .success(let address):
                if address.address.isUnspecified || address.address.isMulticastOrBroadcast {
                    m.problems.add(item.sourceMark, field, "`\(text)` is not a unicast address — give the address this member receives gossip on")
                } else if let first = seen[address] {
                    let whose = first.member == member ? "this member" : "member `\(first.member)`"
                    m.problems.add(item.sourceMark, field, "duplicate address \(address): already used by \(whose) (line \(first.mark.line)) — every gossip address must be unique")
                } else {
                    seen[address] = (item.sourceMark, member)
                    result.append(address)
                }
            }
        }
        return result.count == items.count ? result : nil
    }
}

/// Rules for member names, failure domains and other identifiers that appear in logs, metrics and status.
enum NameRules {
    /// Why `name` is not a valid identifier, or nil.
    static func problem(_ name: String) -> String? {
        guard ClusterLimits.nameLength.contains(name.count) else {
            return "`\(name.prefix(70))` must be 1 to 63 characters — shorten it"
        }
        let allowed = name.unicodeScalars.allSatisfy { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-")
        }
        return allowed ? nil : "`\(name)` may contain only letters, digits, `.`, `_` and `-` — rename it"
    }
}
