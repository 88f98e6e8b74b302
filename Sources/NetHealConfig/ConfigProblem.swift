/// One problem found in a configuration or key file: where it is, which field, and what to do.
///
/// Rendered as `FILE:LINE:COL: FIELD: MESSAGE` (or `FILE: …` when the problem concerns the whole
/// file, e.g. it cannot be read). The message ends with the fix, after an em dash.
public struct ConfigProblem: Hashable, Sendable, CustomStringConvertible {
    /// The file the problem is in, as given (or resolved) by the caller.
    public var file: String
    /// 1-based line, or nil when the problem concerns the whole file.
    public var line: Int?
    /// 1-based column (in Unicode scalars), or nil when the problem concerns the whole file.
    public var column: Int?
    /// The field's path, e.g. `members[2].public_key` or `protocol.failure_rounds`; empty for the file.
    public var field: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `FILE:LINE:COL: FIELD: MESSAGE`.
    public var description: String {
        var out = file
        if let line {
            out += ":\(line)"
            if let column { out += ":\(column)" }
        }
        out += ": "
        if !field.isEmpty { out += field + ": " }
        return out + message
    }
}

/// Every problem found while loading configuration: loading either returns a complete, validated
/// value or throws this list (never a partially applied configuration).
public struct ConfigProblems: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems, ordered by file (in the order files were read) and then by position.
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) { self.problems = problems }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }

    /// Number of problems.
    public var count: Int { problems.count }

    /// The problems of `file` only.
    public func problems(in file: String) -> [ConfigProblem] { problems.filter { $0.file == file } }
}

// MARK: - Collecting

/// Accumulates problems while one file is interpreted. Internal: the public API only sees `ConfigProblems`.
final class ProblemCollector {
    /// The file every problem is attributed to.
    let file: String
    private(set) var problems: [ConfigProblem] = []

    init(file: String) { self.file = file }

    var isEmpty: Bool { problems.isEmpty }

    /// Records a problem at `mark` (nil: the whole file).
    func add(_ mark: SourceMark?, _ field: String, _ message: String) {
        problems.append(ConfigProblem(file: file, line: mark?.line, column: mark?.column, field: field, message: message))
    }

    /// The problems sorted by position (whole-file problems first); ties keep the order found.
    var sorted: [ConfigProblem] {
        problems.enumerated().sorted { a, b in
            let ka = (a.element.line ?? 0, a.element.column ?? 0, a.offset)
            let kb = (b.element.line ?? 0, b.element.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }
}

/// A position in a file: 1-based line and column.
struct SourceMark: Hashable, Sendable, Comparable {
    var line: Int
    var column: Int

    static let start = SourceMark(line: 1, column: 1)

    static func < (a: SourceMark, b: SourceMark) -> Bool { (a.line, a.column) < (b.line, b.column) }
}
