#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Drops this process's page-table entries for clean, read-only file pages once start-up is over,
/// so the agent's resident set is its steady-state working set, not everything start-up touched.
///
/// Start-up (argument parsing, the YAML loader, the Swift runtime's first conformance lookups,
/// Foundation's initialisers) faults in ~20 MB of the executable's code and read-only data that
/// the running agent never touches again. `madvise(MADV_DONTNEED)` on a mapping that is file-backed,
/// not writable and holds no private (copy-on-write) page only unmaps those pages: they stay in the
/// page cache, and any page used later is mapped again from it by a minor fault, with the same bytes.
/// Mappings with a private page (relocated `.data.rel.ro`, written data, heap, stacks) are never
/// touched, so no byte of the process's state changes.
public enum ResidentTrim {
    /// One mapping of `/proc/self/smaps` that may be trimmed.
    public struct Region: Hashable, Sendable {
        /// Start address and length in bytes.
        public var start: UInt
        public var length: UInt
        /// Resident kB before the trim.
        public var residentKB: Int
        /// The mapped file.
        public var path: String
    }

    /// The trimmable mappings in `smaps` text: a file path (not `[vdso]`, not deleted), no `w`
    /// permission, not shared-writable, and `Anonymous: 0 kB` (no copy-on-write page), with
    /// something resident. Pure.
    public static func regions(smaps text: String) -> [Region] {
        var regions: [Region] = []
        var current: (start: UInt, end: UInt, path: String, eligible: Bool)?
        var resident = 0
        var anonymous = -1
        func flush() {
            if let mapping = current, mapping.eligible, anonymous == 0, resident > 0 {
                regions.append(
                    Region(
                        start: mapping.start, length: mapping.end - mapping.start, residentKB: resident,
                        path: mapping.path))
            }
            current = nil
            resident = 0
            anonymous = -1
        }
        for line in text.split(separator: "\n") {
            if let header = parseHeader(line) {
                flush()
                current = header
            } else if line.hasPrefix("Rss:") {
                resident = kilobytes(line) ?? 0
            } else if line.hasPrefix("Anonymous:") {
                anonymous = kilobytes(line) ?? -1
            }
        }
        flush()
        return regions
    }

    /// Trims the current process (see the type's description). Returns the kB unmapped; 0 when
    /// `/proc/self/smaps` cannot be read or `madvise` is refused (a seccomp filter), which is harmless.
    @discardableResult
    public static func trimCurrentProcess() -> Int {
        guard let text = readSmaps() else { return 0 }
        var trimmed = 0
        for region in regions(smaps: text) {
            guard let address = UnsafeMutableRawPointer(bitPattern: region.start) else { continue }
            if madvise(address, Int(region.length), MADV_DONTNEED) == 0 { trimmed += region.residentKB }
        }
        return trimmed
    }

    /// `START-END PERMS OFFSET DEV INODE PATH`: the range, the path, and whether it may be trimmed.
    static func parseHeader(_ line: Substring) -> (start: UInt, end: UInt, path: String, eligible: Bool)? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5, let dash = fields[0].firstIndex(of: "-"),
            let start = UInt(fields[0][..<dash], radix: 16),
            let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16), end > start,
            fields[1].count == 4
        else { return nil }
        let path = fields.count == 6 ? String(fields[5].drop(while: { $0 == " " })) : ""
        let permissions = fields[1]
        let eligible =
            path.hasPrefix("/") && !path.hasSuffix("(deleted)") && !permissions.contains("w")
            && permissions.last == "p"
        return (start, end, path, eligible)
    }

    static func kilobytes(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }

    static func readSmaps() -> String? {
        let fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
