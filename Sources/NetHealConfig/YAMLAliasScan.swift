/// Finds YAML aliases (`*name` referring to an earlier `&name`) before the file is composed.
///
/// Configuration files have no use for aliases, and an alias used as a mapping key makes the YAML
/// composer hash an exponentially large expansion ("billion laughs"). A light scanner is enough:
/// it follows where a YAML node may start (line start, after `- `, `: `, `? `, `[`, `{`, `,`, or
/// after a tag or anchor), skips comments and quoted scalars that start there, and reports `*name`
/// at a node start when `&name` was seen at one before.
enum YAMLAliasScan {
    /// The position and name of the first alias of a previously defined anchor, if any.
    static func firstAlias(in bytes: [UInt8]) -> (mark: SourceMark, name: String)? {
        var anchors = Set<[UInt8]>()
        var scanner = Cursor(bytes: bytes)
        var nodeStart = true
        var flowDepth = 0
        while let c = scanner.peek() {
            switch c {
            case .newline:
                nodeStart = true
                scanner.advance()
            case .space, .tab, .cr:
                scanner.advance()
            case .hash where scanner.previousIsBlank:
                scanner.skipLine()
            case .doubleQuote where nodeStart, .singleQuote where nodeStart:
                scanner.skipQuoted(c)
                nodeStart = false
            case .ampersand where nodeStart, .asterisk where nodeStart, .bang where nodeStart:
                let mark = scanner.mark
                scanner.advance()
                let name = scanner.takeName()
                if c == .ampersand, !name.isEmpty { anchors.insert(name) }
                if c == .asterisk {
                    if anchors.contains(name) { return (mark, String(decoding: name, as: UTF8.self)) }
                    nodeStart = false
                }
            case .openBracket, .openBrace:
                flowDepth += 1
                nodeStart = true
                scanner.advance()
            case .closeBracket, .closeBrace:
                flowDepth = max(0, flowDepth - 1)
                nodeStart = false
                scanner.advance()
            case .comma where flowDepth > 0:
                nodeStart = true
                scanner.advance()
            case .dash, .question, .colon:
                scanner.advance()
                // An indicator followed by a blank (or, in flow context, a `:` right after a key).
                nodeStart = scanner.peekIsBlankOrEnd || (c == .colon && flowDepth > 0)
            default:
                nodeStart = false
                scanner.advance()
            }
        }
        return nil
    }

    /// A byte cursor that tracks line and column (in Unicode scalars, as libyaml reports them).
    private struct Cursor {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var column = 1

        init(bytes: [UInt8]) { self.bytes = bytes }

        var mark: SourceMark { SourceMark(line: line, column: column) }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        var peekIsBlankOrEnd: Bool {
            guard let c = peek() else { return true }
            return c == .space || c == .tab || c == .newline || c == .cr
        }

        var previousIsBlank: Bool {
            index == 0 || [UInt8.space, .tab, .newline, .cr].contains(bytes[index - 1])
        }

        mutating func advance() {
            guard index < bytes.count else { return }
            let c = bytes[index]
            index += 1
            if c == .newline {
                line += 1
                column = 1
            } else if c & 0xC0 != 0x80 {
                column += 1
            }
        }

        mutating func skipLine() {
            while let c = peek(), c != .newline { advance() }
        }

        /// Skips a quoted scalar starting at the cursor (`''` and `\"` escapes).
        mutating func skipQuoted(_ quote: UInt8) {
            advance()
            while let c = peek() {
                advance()
                if c == .backslash, quote == .doubleQuote {
                    advance()
                } else if c == quote {
                    if quote == .singleQuote, peek() == .singleQuote { advance() } else { return }
                }
            }
        }

        /// The anchor, alias or tag name at the cursor.
        mutating func takeName() -> [UInt8] {
            let start = index
            while let c = peek(), ![UInt8.space, .tab, .newline, .cr, .comma, .openBracket, .closeBracket, .openBrace, .closeBrace].contains(c) {
                advance()
            }
            return Array(bytes[start..<index])
        }
    }
}

extension UInt8 {
    fileprivate static let newline = UInt8(ascii: "\n")
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let hash = UInt8(ascii: "#")
    fileprivate static let doubleQuote = UInt8(ascii: "\"")
    fileprivate static let singleQuote = UInt8(ascii: "'")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let ampersand = UInt8(ascii: "&")
    fileprivate static let asterisk = UInt8(ascii: "*")
    fileprivate static let bang = UInt8(ascii: "!")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let dash = UInt8(ascii: "-")
    fileprivate static let question = UInt8(ascii: "?")
    fileprivate static let colon = UInt8(ascii: ":")
}
