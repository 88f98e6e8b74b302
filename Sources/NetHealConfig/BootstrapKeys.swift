import NetHealCore
import Yams

/// One public key the operator collected from a node: `NAME ed25519:…`.
public struct CollectedKey: Hashable, Sendable {
    /// The member name.
    public var name: String
    /// The key text as `keygen` printed it (`ed25519:<64 hex digits>`).
    public var key: String
    /// The file it came from (or `command line`).
    public var file: String
    /// 1-based line in `file`, or nil.
    public var line: Int?

    public init(name: String, key: String, file: String = "command line", line: Int? = nil) {
        self.name = name
        self.key = key
        self.file = file
        self.line = line
    }
}

/// What happened to one member's key when keys were filled in.
public enum KeyChange: Hashable, Sendable {
    /// `PENDING` replaced by the key.
    case added(name: String)
    /// An existing key replaced (with `rotate`).
    case rotated(name: String)
    /// The member already had exactly this key.
    case unchanged(name: String)
}

/// Fills collected public keys into a cluster file (text edit in place: comments, order and layout
/// are kept), and reads which keys are still `PENDING`.
public enum BootstrapKeys {
    /// A key slot: a member's `public_key` scalar and where its text is.
    struct Slot {
        var name: String
        var value: String
        var line: Int
        var column: Int
        var quote: Character?
    }

    /// Parses a keys file: one `NAME ed25519:…` per line; `#` comments and blank lines ignored.
    public static func parseKeysFile(_ text: String, path: String) throws(ConfigProblems) -> [CollectedKey] {
        var out: [CollectedKey] = []
        var problems: [ConfigProblem] = []
        var first: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let fields = raw.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                problems.append(
                    ConfigProblem(
                        file: path, line: line, column: 1, field: "",
                        message:
                            "expected `NAME ed25519:<64 hex digits>`, got \(fields.count) field\(fields.count == 1 ? "" : "s") — one node per line, as `keygen` printed its key"
                    ))
                continue
            }
            let name = String(fields[0])
            if let earlier = first[name] {
                problems.append(
                    ConfigProblem(
                        file: path, line: line, column: 1, field: name,
                        message:
                            "second key for `\(name)` (first at line \(earlier)) — keep the one `keygen` printed last on that node"
                    ))
                continue
            }
            first[name] = line
            out.append(CollectedKey(name: name, key: String(fields[1]), file: path, line: line))
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return out
    }

    /// The names of members whose `public_key` is still `PENDING`, in member order.
    public static func pendingMembers(_ bytes: [UInt8], path: String) throws(ConfigProblems) -> [String] {
        try slots(bytes, path: path).filter { $0.value == BootstrapFleet.pendingKey }.map(\.name)
    }

    /// The cluster file with `keys` filled in, and what changed per key. A member that already has a
    /// different key is refused unless `rotate` is true. The result is checked with the cluster file
    /// parser (pending keys stood in for); nothing is returned unless every key applies.
    public static func fill(_ bytes: [UInt8], path: String, keys: [CollectedKey], rotate: Bool) throws(ConfigProblems)
        -> (bytes: [UInt8], changes: [KeyChange])
    {
        let slots = try slots(bytes, path: path)
        var problems: [ConfigProblem] = []
        var edits: [(slot: Slot, key: String)] = []
        var changes: [KeyChange] = []
        let names = slots.map(\.name)
        for entry in keys {
            func problem(_ message: String) {
                problems.append(
                    ConfigProblem(file: entry.file, line: entry.line, column: nil, field: entry.name, message: message))
            }
            guard let slot = slots.first(where: { $0.name == entry.name }) else {
                problem(
                    "`\(entry.name)` is not a member of \(path)"
                        + (Suggest.closest(to: entry.name, among: names).map { " — did you mean `\($0)`?" }
                            ?? " — add the member first (docs/deployment.md)"))
                continue
            }
            let newKey: [UInt8]
            switch PublicKeyParsing.parse(entry.key) {
            case .success(let key): newKey = key
            case .failure(let error):
                problem(error.description)
                continue
            }
            let text = PublicKeyText.prefix + Hex.encode(newKey)
            if slot.value == BootstrapFleet.pendingKey {
                changes.append(.added(name: slot.name))
            } else if case .success(let old) = PublicKeyParsing.parse(slot.value), old == newKey {
                changes.append(.unchanged(name: slot.name))
                continue
            } else if rotate {
                changes.append(.rotated(name: slot.name))
            } else {
                problem(
                    "already has key `\(slot.value.prefix(24))…` (\(path):\(slot.line)) — to replace it (key rotation), pass --rotate"
                )
                continue
            }
            edits.append((slot, text))
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }

        var lines = split(bytes)
        for (slot, key) in edits {
            let token = slot.quote.map { "\($0)\(slot.value)\($0)" } ?? slot.value
            let replacement = slot.quote.map { "\($0)\(key)\($0)" } ?? key
            var scalars = Array(lines[slot.line - 1].unicodeScalars)
            let start = slot.column - 1
            let tokenScalars = Array(token.unicodeScalars)
            guard start + tokenScalars.count <= scalars.count,
                Array(scalars[start..<(start + tokenScalars.count)]) == tokenScalars
            else {
                throw ConfigProblems([
                    ConfigProblem(
                        file: path, line: slot.line, column: slot.column, field: slot.name,
                        message:
                            "cannot edit this `public_key` automatically (escapes or a multi-line value) — write `public_key: \(key)` by hand"
                    )
                ])
            }
            scalars.replaceSubrange(start..<(start + tokenScalars.count), with: Array(replacement.unicodeScalars))
            var rebuilt = String.UnicodeScalarView()
            rebuilt.append(contentsOf: scalars)
            lines[slot.line - 1] = String(rebuilt)
        }
        let result = Array(lines.joined(separator: "\n").utf8)
        _ = try ConfigLoader.parseCluster(try standInForPending(result, path: path), path: path)
        return (result, changes)
    }

    /// The cluster file with every `PENDING` key replaced by a unique stand-in key (on the same line,
    /// so problems keep their positions); used to check everything else before the keys are in.
    public static func standInForPending(_ bytes: [UInt8], path: String) throws(ConfigProblems) -> [UInt8] {
        let slots = try slots(bytes, path: path).enumerated().filter { $0.element.value == BootstrapFleet.pendingKey }
        guard !slots.isEmpty else { return bytes }
        var keys: [CollectedKey] = []
        for (i, slot) in slots {
            // 0xfe… never comes out of keygen in practice; the index makes each stand-in unique.
            let key =
                [UInt8](repeating: 0xfe, count: 28) + [
                    UInt8(i >> 24 & 0xff), UInt8(i >> 16 & 0xff), UInt8(i >> 8 & 0xff), UInt8(i & 0xff),
                ]
            keys.append(CollectedKey(name: slot.name, key: PublicKeyText.prefix + Hex.encode(key)))
        }
        var lines = split(bytes)
        for ((_, slot), key) in zip(slots, keys) {
            var scalars = Array(lines[slot.line - 1].unicodeScalars)
            let start = slot.column - 1 + (slot.quote == nil ? 0 : 1)
            let pending = Array(BootstrapFleet.pendingKey.unicodeScalars)
            guard start + pending.count <= scalars.count, Array(scalars[start..<(start + pending.count)]) == pending
            else { continue }
            scalars.replaceSubrange(start..<(start + pending.count), with: Array(key.key.unicodeScalars))
            var rebuilt = String.UnicodeScalarView()
            rebuilt.append(contentsOf: scalars)
            lines[slot.line - 1] = String(rebuilt)
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    // MARK: Reading slots

    /// Every member's `public_key` scalar with its position. Throws when the file is not YAML or has
    /// no readable member list (the cluster file parser then says what is wrong in detail).
    static func slots(_ bytes: [UInt8], path: String) throws(ConfigProblems) -> [Slot] {
        let problems = ProblemCollector(file: path)
        guard let root = YAMLSource.compose(bytes, problems: problems) else { throw ConfigProblems(problems.sorted) }
        guard case .mapping(let top) = root, case .sequence(let members)? = top["members"] else {
            _ = try ConfigLoader.parseCluster(bytes, path: path)
            throw ConfigProblems([
                ConfigProblem(
                    file: path, line: nil, column: nil, field: "members",
                    message: "no member list found — is this a cluster file?")
            ])
        }
        var out: [Slot] = []
        for member in members {
            guard case .mapping(let fields) = member,
                case .scalar(let name)? = fields["name"],
                let keyNode = fields["public_key"], case .scalar(let key) = keyNode, let mark = keyNode.mark
            else { continue }
            let quote: Character? =
                switch key.style {
                case .doubleQuoted: "\""
                case .singleQuoted: "'"
                default: nil
                }
            out.append(Slot(name: name.string, value: key.string, line: mark.line, column: mark.column, quote: quote))
        }
        return out
    }

    private static func split(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
