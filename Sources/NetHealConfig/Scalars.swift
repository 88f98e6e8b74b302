import Yams

/// Strict interpretation of YAML scalars per field type. YAML 1.1 implicit typing is never used:
/// `on`/`no` are strings where a string is expected, and a quoted `"3"` is not an integer.
enum Scalars {
    /// The scalar of `node`, or nil with a type problem recorded. `expected` names the wanted type.
    static func scalar(_ node: Node, expected: String, field: String, problems: ProblemCollector) -> Node.Scalar? {
        guard case .scalar(let scalar) = node else {
            problems.add(node.sourceMark, field, "expected \(expected), got \(node.shortDescription)")
            return nil
        }
        let tag = scalar.tag.rawValue
        if tag != Tag.Name.implicit.rawValue && tag != Tag.Name.str.rawValue {
            problems.add(node.sourceMark, field, "explicit YAML tags (`\(tag)`) are not supported — remove the tag")
            return nil
        }
        if scalar.style == .plain, Node.nullSpellings.contains(scalar.string) {
            problems.add(node.sourceMark, field, "has no value — give \(expected), or remove the key to use the default")
            return nil
        }
        return scalar
    }

    /// A string of any scalar style (plain, quoted, block).
    static func string(_ node: Node, field: String, problems: ProblemCollector) -> String? {
        scalar(node, expected: "a string", field: field, problems: problems)?.string
    }

    /// A plain decimal integer in `range`.
    static func int(_ node: Node, in range: ClosedRange<Int>, field: String, problems: ProblemCollector) -> Int? {
        let expected = "an integer"
        guard let scalar = scalar(node, expected: expected, field: field, problems: problems) else { return nil }
        guard scalar.style == .plain else {
            problems.add(node.sourceMark, field, "expected \(expected), got \(node.shortDescription) — remove the quotes")
            return nil
        }
        guard let value = parseDecimal(scalar.string) else {
            problems.add(node.sourceMark, field, "expected \(expected) (decimal digits), got \(node.shortDescription)")
            return nil
        }
        guard range.contains(value) else {
            problems.add(node.sourceMark, field, "\(value) is out of range — use a value from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    /// A duration such as `800ms`, `4s`, `1m30s`, `1h`, in `range`.
    static func duration(_ node: Node, in range: ClosedRange<Duration>, field: String, problems: ProblemCollector) -> Duration? {
        let expected = "a duration such as `800ms`, `4s`, `1m` or `1h`"
        guard let scalar = scalar(node, expected: expected, field: field, problems: problems) else { return nil }
        let text = scalar.string
        if parseDecimal(text) != nil {
            problems.add(node.sourceMark, field, "`\(text)` has no unit — write e.g. `\(text)s` or `\(text)ms`")
            return nil
        }
        guard let value = DurationText.parse(text) else {
            problems.add(node.sourceMark, field, "expected \(expected) (whole numbers with units ms, s, m, h), got \(node.shortDescription)")
            return nil
        }
        guard range.contains(value) else {
            problems.add(
                node.sourceMark, field,
                "\(DurationText.format(value)) is out of range — use a value from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))")
            return nil
        }
        return value
    }

    /// A fraction: a plain decimal number greater than 0 and at most 1.
    static func fraction(_ node: Node, field: String, problems: ProblemCollector) -> Double? {
        let expected = "a number greater than 0 and at most 1, e.g. `0.5`"
        guard let scalar = scalar(node, expected: expected, field: field, problems: problems) else { return nil }
        guard scalar.style == .plain else {
            problems.add(node.sourceMark, field, "expected \(expected), got \(node.shortDescription) — remove the quotes")
            return nil
        }
        guard isDecimalNumber(scalar.string), let value = Double(scalar.string) else {
            problems.add(node.sourceMark, field, "expected \(expected), got \(node.shortDescription)")
            return nil
        }
        guard value > 0, value <= 1 else {
            problems.add(node.sourceMark, field, "\(scalar.string) is out of range — use a number greater than 0 and at most 1")
            return nil
        }
        return value
    }

    /// A plain `true` or `false` (YAML 1.1 spellings such as `yes`/`on` are refused).
    static func bool(_ node: Node, field: String, problems: ProblemCollector) -> Bool? {
        let expected = "`true` or `false`"
        guard let scalar = scalar(node, expected: expected, field: field, problems: problems) else { return nil }
        if scalar.style == .plain {
            if scalar.string == "true" { return true }
            if scalar.string == "false" { return false }
        }
        problems.add(node.sourceMark, field, "expected \(expected), got \(node.shortDescription) — write true or false")
        return nil
    }

    /// One of the raw values of `T` (a string of any style), with a suggestion when close.
    static func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ type: T.Type, field: String, problems: ProblemCollector) -> T?
    where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        let expected = "one of " + names.map { "`\($0)`" }.joined(separator: ", ")
        guard let scalar = scalar(node, expected: expected, field: field, problems: problems) else { return nil }
        if let value = T(rawValue: scalar.string) { return value }
        problems.add(node.sourceMark, field, "`\(scalar.string)` is not \(expected)" + Suggest.didYouMean(scalar.string, among: names, listing: nil))
        return nil
    }

    /// The items of a list (at most `maximumCount`), each with its field path.
    static func list(_ node: Node, maximumCount: Int, field: String, problems: ProblemCollector) -> [(node: Node, field: String)]? {
        guard case .sequence(let sequence) = node else {
            if case .scalar(let scalar) = node, scalar.style == .plain, Node.nullSpellings.contains(scalar.string) {
                problems.add(node.sourceMark, field, "has no value — give a list (`- item` lines), or remove the key to use the default")
            } else {
                problems.add(node.sourceMark, field, "expected a list (`- item` lines), got \(node.shortDescription)")
            }
            return nil
        }
        guard sequence.count <= maximumCount else {
            problems.add(node.sourceMark, field, "has \(sequence.count) items, more than the limit of \(maximumCount)")
            return nil
        }
        return sequence.enumerated().map { ($0.element, "\(field)[\($0.offset)]") }
    }

    // MARK: Numbers

    /// A decimal integer: optional `-`, then 1 to 18 digits.
    static func parseDecimal(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard let magnitude = Int(digits) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Digits, optionally followed by a dot and digits (no sign, exponent, or leading dot).
    static func isDecimalNumber(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, text.count <= 20 else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }
}
