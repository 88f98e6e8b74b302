import Testing

@testable import NetHealAgent

@Suite("Resident set trim")
struct ResidentTrimTests {
    static let smaps = """
        55d6074e5000-55d609298000 r-xp 003f8000 103:02 1234                       /usr/bin/netheal-cluster
        Size:              29388 kB
        Rss:                7532 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me
        55d609298000-55d609363000 r--p 01dad000 103:02 1234                       /usr/bin/netheal-cluster
        Size:                812 kB
        Rss:                 812 kB
        Anonymous:           812 kB
        55d609363000-55d60b7bc000 rw-p 01e78000 103:02 1234                       /usr/bin/netheal-cluster
        Rss:                2916 kB
        Anonymous:           372 kB
        7f0000000000-7f0000021000 rw-p 00000000 00:00 0
        Rss:                1776 kB
        Anonymous:          1776 kB
        7f1000000000-7f1000100000 r--p 00000000 103:02 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                 920 kB
        Anonymous:             0 kB
        7f2000000000-7f2000001000 r--s 00000000 103:02 77                         /var/lib/netheal/shared.map
        Rss:                   4 kB
        Anonymous:             0 kB
        7f3000000000-7f3000010000 r--p 00000000 103:02 55                         /usr/lib/old.so (deleted)
        Rss:                  64 kB
        Anonymous:             0 kB
        7f4000000000-7f4000010000 r--p 00000000 103:02 56                         /usr/lib/cold.so
        Rss:                   0 kB
        Anonymous:             0 kB
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """

    @Test("only resident, read-only, private file mappings without a copy-on-write page are trimmed")
    func picksCleanReadOnlyFileMappings() {
        let regions = ResidentTrim.regions(smaps: Self.smaps)
        #expect(regions.map(\.path) == ["/usr/bin/netheal-cluster", "/usr/lib/x86_64-linux-gnu/libc.so.6"])
        #expect(regions.first?.start == 0x55d6_074e_5000)
        let expectedLength: UInt = 0x55d6_0929_8000 - 0x55d6_074e_5000
        #expect(regions.first.map(\.length) == expectedLength)
        #expect(regions.map(\.residentKB) == [7532, 920])
    }

    @Test("a mapping whose Anonymous line is missing is not trimmed")
    func missingAnonymousLineIsNotTrimmed() {
        let text = """
            55d6074e5000-55d609298000 r-xp 003f8000 103:02 1234                       /usr/bin/netheal-cluster
            Rss:                7532 kB
            """
        #expect(ResidentTrim.regions(smaps: text).isEmpty)
    }

    @Test("trimming this process unmaps resident pages and the process keeps running")
    func trimsThisProcess() {
        let trimmed = ResidentTrim.trimCurrentProcess()
        #expect(trimmed > 0)
        // Code and read-only data fault back in from the page cache: this still works.
        let again = ResidentTrim.regions(smaps: ResidentTrim.readSmaps() ?? "")
        #expect(again.allSatisfy { !$0.path.isEmpty })
        #expect([3, 1, 2].sorted() == [1, 2, 3])
    }
}
