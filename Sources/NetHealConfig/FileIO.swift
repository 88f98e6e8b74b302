#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls of NetHealConfig, in one place. Every return code is checked; failures carry
/// the errno text.
enum FileIO {
    /// A failed call: what was attempted and `strerror(errno)`.
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var errno: Int32
        var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    /// Metadata of an open file.
    struct Status {
        var mode: UInt32
        var owner: UInt32
        var size: Int
        var isRegularFile: Bool
    }

    /// Reads a whole file of at most `limit` bytes (an error mentioning the limit when it is bigger).
    static func readFile(path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        return try readAll(fd, limit: limit, path: path)
    }

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Failure) -> Int32 {
        let fd = open(path, flags, mode)
        guard fd >= 0 else { throw Failure(call: "open", errno: errno) }
        return fd
    }

    static func status(_ fd: Int32) throws(Failure) -> Status {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(call: "fstat", errno: errno) }
        return Status(
            mode: UInt32(st.st_mode) & 0o7777, owner: UInt32(st.st_uid), size: Int(st.st_size),
            isRegularFile: (st.st_mode & S_IFMT) == S_IFREG)
    }

    static func readAll(_ fd: Int32, limit: Int, path: String) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(call: "read", errno: errno)
            }
            if n == 0 { return out }
            out += chunk[0..<n]
            if out.count > limit { throw Failure(call: "read (more than \(limit) bytes)", errno: EFBIG) }
        }
    }

    /// Writes all of `bytes`, retrying short writes.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(call: "write", errno: errno)
            }
            offset += n
        }
    }

    static func fsyncFile(_ fd: Int32) throws(Failure) {
        guard fsync(fd) == 0 else { throw Failure(call: "fsync", errno: errno) }
    }

    static func fchmodFile(_ fd: Int32, _ mode: mode_t) throws(Failure) {
        guard fchmod(fd, mode) == 0 else { throw Failure(call: "fchmod", errno: errno) }
    }

    /// fsyncs a directory so a newly created entry in it survives a crash.
    static func fsyncDirectory(_ path: String) throws(Failure) {
        let fd = try openFile(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        try fsyncFile(fd)
    }

    static func closeFile(_ fd: Int32) throws(Failure) {
        guard close(fd) == 0 else { throw Failure(call: "close", errno: errno) }
    }

    static func unlinkFile(_ path: String) { _ = unlink(path) }

    static var effectiveUserID: UInt32 { UInt32(geteuid()) }
}
