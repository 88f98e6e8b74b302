import NetHealConfig
import Testing

@Suite("maintenance windows: text form and schedule")
struct MaintenanceScheduleTests {
    /// Monday 2026-11-16 00:00:00 UTC.
    static let monday: Int64 = 1_794_787_200_000
    static let minute: Int64 = 60_000

    /// Wall milliseconds at `day` (0 = Monday of the base week, 7 = the next Monday) `hh:mm`, plus `ms`.
    static func at(_ day: Int, _ hh: Int, _ mm: Int, ms: Int64 = 0) -> Int64 {
        monday + Int64(day * 1440 + hh * 60 + mm) * minute + ms
    }

    static func schedule(_ texts: String...) throws -> MaintenanceSchedule {
        MaintenanceSchedule(windows: try texts.map { try MaintenanceWindow.parse($0).get() })
    }

    @Test func parsesTheThreeDayForms() throws {
        let sunday = try MaintenanceWindow.parse("sun 02:00-04:00").get()
        #expect(sunday.days == [6] && sunday.startMinute == 120 && sunday.endMinute == 240)
        let weekdays = try MaintenanceWindow.parse("mon-fri 12:00-12:30").get()
        #expect(weekdays.days == [0, 1, 2, 3, 4] && weekdays.startMinute == 720 && weekdays.endMinute == 750)
        #expect(try MaintenanceWindow.parse("daily 03:00-03:15").get().days == Array(0..<7))
        #expect(try MaintenanceWindow.parse("fri-mon 22:00-24:00").get().days == [0, 4, 5, 6])
        #expect(try MaintenanceWindow.parse("SAT  23:00-01:00").get().days == [5])
    }

    @Test(arguments: [
        ("", "is not a window"),
        ("sun", "is not a window"),
        ("sunday 02:00-04:00", "is not `daily`, a day"),
        ("mon-mon 02:00-04:00", "is not `daily`, a day"),
        ("sun 2:00-04:00", "start `2:00` is not a time"),
        ("sun 02:00-24:30", "end `24:30` is not a time"),
        ("sun 24:00-01:00", "start `24:00` is not a time"),
        ("sun 02:00", "is not a time range"),
        ("sun 02:00-04:00-05:00", "is not a time range"),
        ("sun 02:60-04:00", "start `02:60`"),
        ("sun 04:00-04:00", "starts and ends at the same time"),
    ])
    func rejects(text: String, expected: String) {
        switch MaintenanceWindow.parse(text) {
        case .success(let window): Issue.record("`\(text)` parsed as \(window.days) \(window.startMinute)-\(window.endMinute)")
        case .failure(let error): #expect(error.message.contains(expected), "\(error)")
        }
    }

    @Test func boundariesIncludeTheStartAndExcludeTheEnd() throws {
        let s = try Self.schedule("sun 02:00-04:00")
        #expect(!s.isInWindow(wallMillis: Self.at(6, 1, 59, ms: 59_999)))
        #expect(s.isInWindow(wallMillis: Self.at(6, 2, 0)))
        #expect(s.isInWindow(wallMillis: Self.at(6, 3, 59, ms: 59_999)))
        #expect(!s.isInWindow(wallMillis: Self.at(6, 4, 0)))
        #expect(!s.isInWindow(wallMillis: Self.at(5, 3, 0)))  // Saturday
        #expect(s.isInWindow(wallMillis: Self.at(13, 3, 0)))  // the next Sunday
        #expect(s.isInWindow(wallMillis: Self.at(-1, 3, 0)))  // the Sunday before
        #expect(!MaintenanceSchedule().isInWindow(wallMillis: Self.at(6, 3, 0)))
    }

    @Test func crossingMidnightAndTheWeekWrap() throws {
        let s = try Self.schedule("sun 23:00-01:00")
        #expect(s.isInWindow(wallMillis: Self.at(6, 23, 30)))
        #expect(s.isInWindow(wallMillis: Self.at(7, 0, 30)))  // Monday of the next week
        #expect(!s.isInWindow(wallMillis: Self.at(7, 1, 0)))
        #expect(s.isInWindow(wallMillis: Self.at(0, 0, 59)))  // this Monday: last Sunday's window
        #expect(!s.isInWindow(wallMillis: Self.at(6, 22, 59)))
        #expect(s.nextChange(after: Self.at(6, 12, 0)) == Self.at(6, 23, 0))
        #expect(s.nextChange(after: Self.at(6, 23, 0)) == Self.at(7, 1, 0))
        #expect(s.nextChange(after: Self.at(7, 1, 0)) == Self.at(13, 23, 0))
    }

    @Test func nextChangeSkipsBoundariesInsideOverlappingWindows() throws {
        let s = try Self.schedule("mon-fri 12:00-12:30", "wed 12:15-13:00", "daily 03:00-03:15")
        #expect(s.nextChange(after: Self.at(2, 12, 5)) == Self.at(2, 13, 0))  // 12:30 is covered by the second
        #expect(s.nextChange(after: Self.at(2, 12, 0, ms: 1)) == Self.at(2, 13, 0))
        #expect(s.nextChange(after: Self.at(2, 11, 59, ms: 999)) == Self.at(2, 12, 0))
        #expect(s.nextChange(after: Self.at(4, 13, 0)) == Self.at(5, 3, 0))
        #expect(s.nextChange(after: Self.at(5, 3, 0)) == Self.at(5, 3, 15))
        #expect(s.nextChange(after: Self.at(6, 3, 30)) == Self.at(7, 3, 0))
    }

    @Test func windowsCoveringTheWholeWeekNeverChange() throws {
        let s = try Self.schedule("daily 00:00-24:00")
        #expect(s.isInWindow(wallMillis: Self.at(3, 17, 42)))
        #expect(s.nextChange(after: Self.at(3, 17, 42)) == nil)
        #expect(MaintenanceSchedule().nextChange(after: Self.at(3, 17, 42)) == nil)
        let adjacent = try Self.schedule("daily 12:00-00:00", "daily 00:00-12:00")
        #expect(adjacent.nextChange(after: Self.at(0, 0, 0)) == nil)
    }

    @Test func theNodeFileKey() throws {
        let text = Fixtures.node + "\nmaintenance_windows:\n  - \"sun 02:00-04:00\"\n  - sat 23:00-01:00\n"
        let config = try Fixtures.parseNode(text)
        #expect(config.node.maintenanceWindows.windows.map(\.text) == ["sun 02:00-04:00", "sat 23:00-01:00"])
        #expect(try Fixtures.parseNode(Fixtures.node).node.maintenanceWindows.isEmpty)
    }

    @Test func badNodeFileEntriesNameTheFileLineAndFix() {
        let text = Fixtures.node + "\nmaintenance_windows:\n  - sun 02:00-04:00\n  - sunday 02:00-04:00\n"
        expectProblem(
            Fixtures.nodeProblems(text), field: "maintenance_windows[1]", line: Fixtures.line(of: "sunday", in: text),
            mentions: ["bad maintenance window", "`sunday`", "e.g. `\"sun 02:00-04:00\"`"])
        let scalar = Fixtures.node + "\nmaintenance_windows: sun 02:00-04:00\n"
        expectProblem(
            Fixtures.nodeProblems(scalar), field: "maintenance_windows", line: Fixtures.line(of: "maintenance_windows", in: scalar),
            mentions: ["expected a list"])
        let number = Fixtures.node + "\nmaintenance_windows: [42]\n"
        #expect(Fixtures.nodeProblems(number).contains { $0.field == "maintenance_windows[0]" })
    }
}
