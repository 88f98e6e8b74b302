/// One weekly maintenance window in UTC, as the node file writes it: `DAYS HH:MM-HH:MM`, where DAYS
/// is `daily`, a day (`sun`) or a day range (`mon-fri`, `fri-mon` wraps). The window starts on each
/// of those days at the start time; an end time not after the start (`sat 23:00-01:00`) ends on the
/// next day. `24:00` may be written as the end.
public struct MaintenanceWindow: Hashable, Sendable, CustomStringConvertible {
    /// Day names, Monday first (the index is the day of the week used here: Monday = 0).
    public static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// The days the window starts on (Monday = 0), ascending.
    public var days: [Int]
    /// Start, minutes after midnight UTC (0...1439).
    public var startMinute: Int
    /// End, minutes after midnight UTC (1...1440); at or before `startMinute`: on the next day.
    public var endMinute: Int
    /// The text as written.
    public var text: String

    public var description: String { text }

    /// The form an operator should write.
    static let usage = "write `DAYS HH:MM-HH:MM` in UTC, DAYS being `daily`, a day such as `sun` or a range such as `mon-fri` — e.g. `\"sun 02:00-04:00\"`"

    /// Parses `text`; on failure returns what is wrong with the fix.
    public static func parse(_ text: String) -> Result<MaintenanceWindow, MaintenanceWindowError> {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map { String($0).lowercased() }
        guard parts.count == 2 else { return .failure(.init("`\(text)` is not a window — \(usage)")) }
        guard let days = parseDays(parts[0]) else {
            return .failure(.init("`\(parts[0])` is not `daily`, a day (`mon`…`sun`) or a day range (`mon-fri`) — \(usage)"))
        }
        let times = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard times.count == 2 else { return .failure(.init("`\(parts[1])` is not a time range `HH:MM-HH:MM` — \(usage)")) }
        guard let start = parseTime(times[0], allow24: false) else {
            return .failure(.init("start `\(times[0])` is not a time 00:00…23:59 (two-digit hours and minutes, UTC) — \(usage)"))
        }
        guard let end = parseTime(times[1], allow24: true) else {
            return .failure(.init("end `\(times[1])` is not a time 00:00…24:00 (two-digit hours and minutes, UTC) — \(usage)"))
        }
        guard start != end else {
            return .failure(.init("`\(parts[1])` starts and ends at the same time — give the window a length, e.g. `02:00-04:00`"))
        }
        return .success(MaintenanceWindow(days: days, startMinute: start, endMinute: end, text: text))
    }

    /// The window's intervals in minutes of the week (Monday 00:00 = 0), each `start..<end` with
    /// `end` possibly past the week's end (callers reduce modulo the week).
    var intervals: [Range<Int>] {
        let length = endMinute > startMinute ? endMinute - startMinute : 1440 - startMinute + endMinute
        return days.map { day in day * 1440 + startMinute ..< day * 1440 + startMinute + length }
    }

    private static func parseDays(_ text: String) -> [Int]? {
        if text == "daily" { return Array(0..<7) }
        let ends = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(ends.count), let first = dayNames.firstIndex(of: ends[0]) else { return nil }
        guard ends.count == 2 else { return [first] }
        guard let last = dayNames.firstIndex(of: ends[1]), last != first else { return nil }
        let count = (last - first + 7) % 7 + 1
        return (0..<count).map { (first + $0) % 7 }.sorted()
    }

    private static func parseTime(_ text: String, allow24: Bool) -> Int? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, fields.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let hours = Int(fields[0]), let minutes = Int(fields[1])
        else { return nil }
        if allow24, hours == 24, minutes == 0 { return 1440 }
        guard hours < 24, minutes < 60 else { return nil }
        return hours * 60 + minutes
    }
}

/// Why a maintenance window's text is not valid (the message ends with the fix).
public struct MaintenanceWindowError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The node file's `maintenance_windows`: weekly UTC windows during which the agent suspends healing
/// as the off switch does. Pure: the wall clock is passed in. Default empty (never in a window).
public struct MaintenanceSchedule: Hashable, Sendable {
    /// The windows, in file order.
    public var windows: [MaintenanceWindow]

    static let minuteMillis: Int64 = 60_000
    static let weekMinutes = 7 * 1440
    /// 1970-01-01 (Unix day 0) was a Thursday: Monday-based day 3.
    static let epochWeekday: Int64 = 3

    public init(windows: [MaintenanceWindow] = []) { self.windows = windows }

    /// True when no window is configured.
    public var isEmpty: Bool { windows.isEmpty }

    /// True when the wall time (milliseconds since the Unix epoch, UTC) lies inside a window
    /// (start included, end excluded).
    public func isInWindow(wallMillis: Int64) -> Bool {
        guard !windows.isEmpty else { return false }
        let minute = Self.minuteOfWeek(wallMillis)
        for window in windows {
            for interval in window.intervals {
                let offset = (minute - interval.lowerBound + Self.weekMinutes) % Self.weekMinutes
                if offset < interval.count { return true }
            }
        }
        return false
    }

    /// The first wall time strictly after `after` at which `isInWindow` changes, or nil when it
    /// never does (no windows, or windows covering the whole week).
    public func nextChange(after: Int64) -> Int64? {
        var boundaries: Set<Int> = []
        for window in windows {
            for interval in window.intervals {
                boundaries.insert(interval.lowerBound % Self.weekMinutes)
                boundaries.insert(interval.upperBound % Self.weekMinutes)
            }
        }
        let current = Self.minuteOfWeek(after)
        let minuteStart = Self.floorDiv(after, Self.minuteMillis) * Self.minuteMillis
        var best: Int64?
        for boundary in boundaries {
            var ahead = Int64((boundary - current + Self.weekMinutes) % Self.weekMinutes)
            if ahead == 0 { ahead = Int64(Self.weekMinutes) }
            let at = minuteStart + ahead * Self.minuteMillis
            guard isInWindow(wallMillis: at) != isInWindow(wallMillis: at - 1) else { continue }
            if best.map({ at < $0 }) ?? true { best = at }
        }
        return best
    }

    /// Minutes since Monday 00:00 UTC of the week containing `wallMillis` (0..<10080).
    public static func minuteOfWeekUTC(_ wallMillis: Int64) -> Int { minuteOfWeek(wallMillis) }

    static func minuteOfWeek(_ wallMillis: Int64) -> Int {
        let minutes = floorDiv(wallMillis, minuteMillis)
        let weekMinutes = Int64(Self.weekMinutes)
        return Int(((minutes + epochWeekday * 1440) % weekMinutes + weekMinutes) % weekMinutes)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
