import Foundation

/// Tears every running lab fleet down on SIGINT and SIGTERM, then exits (130 / 143).
///
/// Fleets register themselves in `up()` and unregister in `down()`; `installSignalHandlers()` is
/// called once by the command line (tests tear down with `defer`).
public final class LabCleanup: @unchecked Sendable {
    /// The process-wide registry.
    public static let shared = LabCleanup()

    private let lock = NSLock()
    private var fleets: [ObjectIdentifier: LabFleet] = [:]
    private var installed = false

    func register(_ fleet: LabFleet) {
        lock.lock()
        fleets[ObjectIdentifier(fleet)] = fleet
        lock.unlock()
    }

    func unregister(_ fleet: LabFleet) {
        lock.lock()
        fleets[ObjectIdentifier(fleet)] = nil
        lock.unlock()
    }

    /// Tears down every registered fleet now.
    public func tearDownAll() {
        lock.lock()
        let all = Array(fleets.values)
        lock.unlock()
        for fleet in all { fleet.down() }
    }

    /// On SIGINT or SIGTERM: print what happens, tear down, exit 128 + signal.
    ///
    /// A C handler writes the signal number into a pipe that a thread reads (a caught signal's
    /// handler is reset by exec, so the agents and tools the lab starts still get the default
    /// SIGTERM/SIGINT behaviour — an ignored or blocked signal would be inherited).
    public func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        signalPipeWriteEnd = fds[1]
        let readEnd = fds[0]
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
        }
        let thread = Thread { [weak self] in
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) != 1 {}
            let sig = Int32(byte)
            FileHandle.standardError.write(Data("\nnetheal lab: signal \(sig), tearing the lab down…\n".utf8))
            self?.tearDownAll()
            exit(128 + sig)
        }
        thread.name = "lab-signals"
        thread.start()
    }
}

/// The write end of the signal pipe (set once, before the handlers are installed; read by them).
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1
