import Yams

/// Appends a member to an existing cluster file (`fleet add-node`): a text edit after the last
/// member, so comments, order and layout are kept, and the new member gets the next wire index.
public enum BootstrapMembers {
    /// The cluster file with `node` appended to `members:` with `public_key: PENDING`. Checked with
    /// the cluster file parser (pending keys stood in for): a duplicate name or address, or a full
    /// cluster, is refused with the parser's problem.
    public static func append(_ node: BootstrapNode, to bytes: [UInt8], path: String) throws(ConfigProblems) -> [UInt8]
    {
        func refuse(_ line: Int?, _ message: String) -> ConfigProblems {
            ConfigProblems([ConfigProblem(file: path, line: line, column: nil, field: "members", message: message)])
        }
        let problems = ProblemCollector(file: path)
        guard let root = YAMLSource.compose(bytes, problems: problems) else { throw ConfigProblems(problems.sorted) }
        guard case .mapping(let top) = root, let membersIndex = top.firstIndex(where: { $0.key.string == "members" }),
            case .sequence(let members) = top[membersIndex].value, let last = members.last, let lastMark = last.mark
        else {
            _ = try ConfigLoader.parseCluster(try BootstrapKeys.standInForPending(bytes, path: path), path: path)
            throw refuse(nil, "no block list of members found — add the member by hand (docs/deployment.md)")
        }
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        // The last member's item: `<indent>- <first key>`; the new one is written the same way.
        let itemLine = Array(lines[lastMark.line - 1].unicodeScalars)
        let keyIndent = lastMark.column - 1
        guard members.style != .flow, keyIndent >= 2, keyIndent <= itemLine.count,
            String(String.UnicodeScalarView(itemLine[(keyIndent - 2)..<keyIndent])) == "- ",
            itemLine[..<(keyIndent - 2)].allSatisfy({ $0 == " " })
        else {
            throw refuse(
                lastMark.line,
                "the members list is not written as `- name: …` items — add the member by hand (docs/deployment.md)")
        }
        let dash = String(repeating: " ", count: keyIndent - 2)
        let key = String(repeating: " ", count: keyIndent)
        var entry = [
            "\(dash)- name: \(BootstrapFleet.yamlName(node.name))",
            "\(key)addresses: [" + node.addresses.map { "\"\($0)\"" }.joined(separator: ", ") + "]",
            "\(key)public_key: \(BootstrapFleet.pendingKey)",
        ]
        if let domain = node.failureDomain { entry.append("\(key)failure_domain: \(BootstrapFleet.yamlName(domain))") }

        // Insert before the next top-level key and the comments and blank lines that lead to it;
        // at the end of the file when `members` is the last key.
        var insertAt: Int
        if membersIndex + 1 < top.count, let next = top[membersIndex + 1].key.mark {
            insertAt = next.line - 1
            while insertAt > lastMark.line, isBlankOrComment(lines[insertAt - 1]) { insertAt -= 1 }
        } else {
            insertAt = lines.count
            while insertAt > lastMark.line, isBlankOrComment(lines[insertAt - 1]) { insertAt -= 1 }
        }
        lines.insert(contentsOf: entry, at: insertAt)
        let result = Array(lines.joined(separator: "\n").utf8)
        _ = try ConfigLoader.parseCluster(try BootstrapKeys.standInForPending(result, path: path), path: path)
        return result
    }

    private static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }
}
