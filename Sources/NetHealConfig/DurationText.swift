/// Durations as the configuration files write them: whole numbers with units, e.g. `800ms`, `4s`,
/// `1m30s`, `1h`. Units: `ms`, `s`, `m`, `h`; segments largest unit first, each unit at most once.
public enum DurationText {
    /// The longest duration any setting accepts (24 h); longer values are refused as typos.
    public static let maximum: Duration = .seconds(86_400)

    /// The duration `text` denotes, or nil when it is malformed or longer than `maximum`.
    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)]
        var rest = Substring(text)
        var total: Int64 = 0
        var lastUnit = -1
        guard !rest.isEmpty, text.utf8.count <= 32 else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unit = units.firstIndex(where: { $0.suffix == letters }), unit > lastUnit else { return nil }
            lastUnit = unit
            rest = rest.dropFirst(letters.count)
            total += value * units[unit].milliseconds
            guard total <= maximum.millisecondsClamped else { return nil }
        }
        return .milliseconds(total)
    }

    /// The shortest text `parse` reads back as `duration` (milliseconds precision), e.g. `1m30s`.
    public static func format(_ duration: Duration) -> String {
        var ms = duration.millisecondsClamped
        if ms == 0 { return "0s" }
        var out = ""
        for (suffix, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1_000), ("ms", 1)] where ms >= size {
            out += "\(ms / size)\(suffix)"
            ms %= size
        }
        return out
    }
}
