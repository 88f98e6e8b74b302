import Foundation
import Yams

/// Turns the bytes of a configuration file into a Yams node tree, or records why it cannot.
enum YAMLSource {
    /// Configuration files larger than this are refused: 16 MiB (a 10,000-member cluster file is
    /// ~1.5 MiB, the 65,535-member maximum ~10 MiB).
    static let maximumBytes = 16 << 20

    /// The root node of `bytes`, or nil with the problems recorded in `problems`.
    static func compose(_ bytes: [UInt8], problems: ProblemCollector) -> Node? {
        guard bytes.count <= maximumBytes else {
            problems.add(nil, "", "file is \(bytes.count) bytes, more than the limit of \(maximumBytes) — is this the right file?")
            return nil
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            let offset = firstInvalidUTF8Offset(bytes)
            problems.add(position(ofByte: offset, in: bytes), "", "the file is not valid UTF-8 — save it as UTF-8 text")
            return nil
        }
        if let alias = YAMLAliasScan.firstAlias(in: bytes) {
            problems.add(alias.mark, "", "YAML aliases (`*\(alias.name)`) are not supported in netheal configuration — write the value out")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            record(error, text: text, problems: problems)
            return nil
        } catch {
            problems.add(nil, "", "cannot parse YAML: \(error)")
            return nil
        }
        guard let root else {
            problems.add(.start, "", "the file is empty — see docs/configuration.md for the keys it needs")
            return nil
        }
        return root
    }

    /// Records a Yams/libyaml error as a syntax problem at its position.
    private static func record(_ error: YamlError, text: String, problems: ProblemCollector) {
        let fix = "fix the YAML syntax (indent with spaces, `key: value`, `- item` for lists)"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            var text = problem
            if let context { text = "\(context.text) (line \(context.mark.line)), \(problem)" }
            problems.add(SourceMark(line: mark.line, column: mark.column), "", "YAML syntax error: \(text) — \(fix)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let first = SourceMark(line: context.mark.line, column: context.mark.column)
            let key = duplicates.sorted().first ?? ""
            let second = repeatedKeyMark(key: key, after: first, in: text)
            problems.add(
                second ?? first, key,
                "duplicate key `\(key)` in one mapping (first at line \(first.line)) — keep one of them")
        case let .reader(problem, offset, _, _):
            problems.add(nil, "", "cannot read the file as YAML text: \(problem)\(offset.map { " at byte \($0)" } ?? "") — save it as UTF-8 text")
        default:
            problems.add(nil, "", "cannot parse YAML: \(error) — \(fix)")
        }
    }

    /// Where `key:` appears again at the same column as its first occurrence `first` (Yams reports
    /// only the first occurrence of a duplicate key; the repeat is what the operator must look at).
    private static func repeatedKeyMark(key: String, after first: SourceMark, in text: String) -> SourceMark? {
        guard !key.isEmpty else { return nil }
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where i + 1 > first.line {
            let scalars = Array(line.unicodeScalars)
            guard scalars.count >= first.column else { continue }
            let rest = String(String.UnicodeScalarView(scalars[(first.column - 1)...]))
            let prefix = scalars[..<(first.column - 1)]
            guard prefix.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelling) {
                let after = rest.dropFirst(spelling.count).drop { $0 == " " }
                if after.hasPrefix(":") { return SourceMark(line: i + 1, column: first.column) }
            }
        }
        return nil
    }

    private static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
        var offset = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var position = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                position += UTF8.width(scalar)
                offset = position
            case .emptyInput:
                break loop
            case .error:
                return offset
            }
        }
        return offset
    }

    private static func position(ofByte offset: Int, in bytes: [UInt8]) -> SourceMark {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return SourceMark(line: line, column: offset - lineStart + 1)
    }
}

// MARK: - Node helpers

extension Node {
    /// The node's position (line 1, column 1 when Yams has none).
    var sourceMark: SourceMark {
        mark.map { SourceMark(line: $0.line, column: $0.column) } ?? .start
    }

    /// A short description of the node for messages: "`text`", "a list", "a mapping".
    var shortDescription: String {
        switch self {
        case .scalar(let scalar):
            if scalar.style == .plain, Node.nullSpellings.contains(scalar.string) { return "no value" }
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(37)) + "..." : scalar.string
            return scalar.style == .plain ? "`\(text)`" : "the quoted string \"\(text)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Plain scalars YAML reads as null.
    static let nullSpellings: Set<String> = ["", "~", "null", "Null", "NULL"]
}
