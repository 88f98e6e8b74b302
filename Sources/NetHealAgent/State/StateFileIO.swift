#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The few syscalls the state directory needs, each checking its return code.
///
/// Writes are atomic and durable: the bytes go to a fresh temporary file in the same directory
/// (`NAME.tmp-PID-N`, opened `O_EXCL|O_NOFOLLOW`, mode 0600), which is fsynced, renamed over
/// `NAME`, and then the directory itself is fsynced so the rename survives a power loss.
enum StateFileIO {
    /// Marker that every temporary file name contains; the store removes leftovers on open.
    static let temporaryMarker = ".tmp-"

    private static let counter = TemporaryCounter()

    /// Atomically replaces `directory/name` with `data` (see the type's documentation).
    static func writeAtomically(_ data: [UInt8], directory: String, name: String) throws(StateStoreError) {
        let target = directory + "/" + name
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = target + temporaryMarker + "\(getpid())-\(counter.next())"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .io(path: temporary, operation: "open", errno: errno) }
        var done = false
        defer {
            if !done { unlink(temporary) }
        }
        do throws(StateStoreError) {
            try writeAll(fd: fd, data, path: temporary)
            guard fsync(fd) == 0 else { throw StateStoreError.io(path: temporary, operation: "fsync", errno: errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw .io(path: temporary, operation: "close", errno: errno) }
        guard rename(temporary, target) == 0 else { throw .io(path: target, operation: "rename", errno: errno) }
        done = true
        try syncDirectory(directory)
    }

    /// Fsyncs a directory so that renames and unlinks in it are durable.
    static func syncDirectory(_ directory: String) throws(StateStoreError) {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw .io(path: directory, operation: "open", errno: errno) }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw .io(path: directory, operation: "fsync", errno: errno) }
    }

    /// Reads a whole regular file (no symlinks), at most `limit` bytes. `nil` when it does not exist.
    /// Opened non-blocking: a FIFO in a state file's place must be reported, not block the start.
    static func readFile(path: String, limit: Int) throws(StateStoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, operation: "fstat", errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path: path) }
        guard Int(info.st_size) <= limit else { throw .tooLarge(path: path, size: Int(info.st_size), limit: limit) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var total = 0
        while true {
            let n = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + total, buffer.count - total)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            total += n
            if total == bytes.count {
                guard total <= limit else { throw .tooLarge(path: path, size: total, limit: limit) }
                bytes.append(contentsOf: [UInt8](repeating: 0, count: 4096))
            }
        }
        return Array(bytes[0..<total])
    }

    private static func writeAll(fd: Int32, _ data: [UInt8], path: String) throws(StateStoreError) {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", errno: errno)
            }
            offset += n
        }
    }
}

/// A process-wide counter that keeps temporary file names unique between threads.
private final class TemporaryCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0

    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        value &+= 1
        return value
    }
}

/// Renders an errno value as "ENAME (message)" text for error messages.
func errnoText(_ code: Int32) -> String {
    "errno \(code) (\(String(cString: strerror(code))))"
}
