import Yams

/// Reads one YAML mapping against a fixed list of known keys: unknown keys are reported with the
/// closest known key, and typed accessors report wrong types and missing values at their position.
struct MappingReader {
    /// The mapping's own position (where missing keys are reported).
    let mark: SourceMark
    /// The field path of the mapping ("" for the root, `protocol`, `members[2]`).
    let path: String
    let problems: ProblemCollector
    private let values: [String: Node]
    private let keyMarks: [String: SourceMark]

    /// A reader over `node`, or nil (with a problem recorded) when `node` is not a mapping.
    init?(_ node: Node, path: String, known: [String], problems: ProblemCollector, what: String) {
        self.mark = node.sourceMark
        self.path = path
        self.problems = problems
        guard case .mapping(let mapping) = node else {
            problems.add(
                node.sourceMark, path,
                "expected \(what) (a mapping of `key: value` lines), got \(node.shortDescription)")
            return nil
        }
        var values: [String: Node] = [:]
        var keyMarks: [String: SourceMark] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, scalar.style == .plain || scalar.style == .singleQuoted || scalar.style == .doubleQuoted else {
                problems.add(key.sourceMark, path, "keys must be plain words, got \(key.shortDescription) — see docs/configuration.md")
                continue
            }
            let name = scalar.string
            guard known.contains(name) else {
                let field = path.isEmpty ? name : "\(path).\(name)"
                problems.add(key.sourceMark, field, "unknown key `\(name)`" + Suggest.didYouMean(name, among: known, listing: "known keys"))
                continue
            }
            if let first = keyMarks[name] {
                // Yams catches plain duplicates; `name` and `"name"` differ in tag and reach here.
                let field = path.isEmpty ? name : "\(path).\(name)"
                problems.add(key.sourceMark, field, "duplicate key `\(name)` in one mapping (first at line \(first.line)) — keep one of them")
                continue
            }
            values[name] = value
            keyMarks[name] = key.sourceMark
        }
        self.values = values
        self.keyMarks = keyMarks
    }

    /// The field path of `key` inside this mapping.
    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key` when present.
    subscript(key: String) -> Node? { values[key] }

    /// True when `key` is present.
    func has(_ key: String) -> Bool { values[key] != nil }

    /// The position of `key`'s value, or of the mapping when absent.
    func valueMark(_ key: String) -> SourceMark { values[key]?.sourceMark ?? mark }

    /// The value of a required key, or nil with "missing required key" recorded.
    func required(_ key: String, example: String) -> Node? {
        if let node = values[key] { return node }
        problems.add(mark, field(key), "missing required key `\(key)` — add e.g. `\(key): \(example)`")
        return nil
    }

    // MARK: Typed access (each records its own problem and returns nil on failure)

    /// A string of any scalar style.
    func string(_ key: String) -> String? {
        values[key].flatMap { Scalars.string($0, field: field(key), problems: problems) }
    }

    /// A plain decimal integer in `range`.
    func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
        values[key].flatMap { Scalars.int($0, in: range, field: field(key), problems: problems) }
    }

    /// A duration such as `800ms`, `4s`, `1m30s`, `1h`, in `range`.
    func duration(_ key: String, in range: ClosedRange<Duration>) -> Duration? {
        values[key].flatMap { Scalars.duration($0, in: range, field: field(key), problems: problems) }
    }

    /// A fraction: a plain number in (0, 1].
    func fraction(_ key: String) -> Double? {
        values[key].flatMap { Scalars.fraction($0, field: field(key), problems: problems) }
    }

    /// A plain `true` or `false`.
    func bool(_ key: String) -> Bool? {
        values[key].flatMap { Scalars.bool($0, field: field(key), problems: problems) }
    }

    /// One of the `choices` (a string of any style).
    func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) -> T? where T: CaseIterable, T.RawValue == String {
        values[key].flatMap { Scalars.choice($0, type, field: field(key), problems: problems) }
    }

    /// A list; items are returned with their field paths (`key[i]`).
    func list(_ key: String, maximumCount: Int) -> [(node: Node, field: String)]? {
        guard let node = values[key] else { return nil }
        return Scalars.list(node, maximumCount: maximumCount, field: field(key), problems: problems)
    }
}
