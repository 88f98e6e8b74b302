import Foundation
import Glibc
import NetHealConfig
import NetHealCore
import NetHealTestKit
import Testing

@testable import NetHealAgent

/// Configuration and environment faults at start-up, against the real `netheal-cluster run` binary
/// (docs/hostile-input.md): each a clear error naming the problem and the fix, a non-zero exit, and
/// nothing changed on the host. Unreachable probe targets are NOT a fault: the agent runs and holds.
@Suite("Startup faults: the real binary refuses bad configuration and environments", .serialized)
struct StartupFaultTests {
    /// `netheal-cluster` next to this test bundle (both are products of the same `swift build`).
    static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("netheal-cluster").path
    }

    struct Outcome {
        var status: Int32
        var stderr: String
        var timedOut: Bool
    }

    /// Runs `netheal-cluster run --config node` (no systemd in its environment); kills it after `timeout`.
    static func run(_ node: String, timeout: Duration = .seconds(60)) async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", node]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = nil
        environment["WATCHDOG_USEC"] = nil
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now > deadline {
                timedOut = true
                process.terminate()
                process.waitUntilExit()
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, stderr: text, timedOut: timedOut)
    }

    /// Replaces `old` by `new` in node file `i`.
    static func edit(_ fleet: IntegrationFleet, node i: Int, _ old: String, _ new: String) throws {
        let text = try String(contentsOfFile: fleet.nodeFile(i), encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(
            toFile: fleet.nodeFile(i), atomically: true, encoding: .utf8)
    }

    /// Runs n0 of a fresh 3-member fleet after `prepare`, expects a refusal whose text contains every one of
    /// `phrases`, and no state directory afterwards (nothing changed on the host).
    func expectRefusal(
        _ phrases: [String], _ prepare: (IntegrationFleet) throws -> Void
    ) async throws {
        try await IntegrationFleet.with(size: 3) { fleet in
            try prepare(fleet)
            let outcome = try await Self.run(fleet.nodeFile(0))
            #expect(!outcome.timedOut, "the agent kept running: \(outcome.stderr)")
            #expect(outcome.status != 0)
            for phrase in phrases {
                #expect(outcome.stderr.contains(phrase), "missing “\(phrase)” in: \(outcome.stderr)")
            }
            #expect(outcome.stderr.split(separator: "\n").count <= 12, "too long: \(outcome.stderr)")
            let state = "\(fleet.directory)/state-n0"
            #expect(!FileManager.default.fileExists(atPath: state), "state dir created: \(outcome.stderr)")
            #expect(!FileManager.default.fileExists(atPath: fleet.socketPath(0)))
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
            print("STARTUP-FAULT exit \(outcome.status): \(outcome.stderr)")
        }
    }

    @Test("the binary is where the test expects it")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "\(Self.binary)")
    }

    @Test("missing secret key file")
    func missingKey() async throws {
        try await expectRefusal(["n0.key", "netheal-cluster keygen"]) { fleet in
            try FileManager.default.removeItem(atPath: "\(fleet.directory)/n0.key")
        }
    }

    @Test("secret key file readable by group or others")
    func keyPermissions() async throws {
        try await expectRefusal(["n0.key", "chmod 600"]) { fleet in
            chmod("\(fleet.directory)/n0.key", 0o644)
        }
    }

    @Test("a key that is not the member's")
    func keyMismatch() async throws {
        try await expectRefusal(["n0.key", "member `n0`", "put this node's key in the cluster file", "point secret_key_file at the right key"]) { fleet in
            try FileManager.default.removeItem(atPath: "\(fleet.directory)/n0.key")
            try SecretKeyFile.write(seed: fleet.fleet.seeds[1], to: "\(fleet.directory)/n0.key")
        }
    }

    @Test("an interface that does not exist")
    func missingInterface() async throws {
        try await expectRefusal(["nh-nosuch0", "interface"]) { fleet in
            try Self.edit(fleet, node: 0, "interface: lo", "interface: nh-nosuch0")
        }
    }

    @Test("the gossip port is already in use")
    func portInUse() async throws {
        var holder: Int32 = -1
        defer { if holder >= 0 { close(holder) } }
        try await expectRefusal(["cannot bind gossip socket", "127.0.0.1", "in use", "ss -ulpn", "cluster-file addresses"]) { fleet in
            holder = try Self.bindUDP(port: fleet.gossipPorts[0])
        }
    }

    @Test("probe targets unreachable at start: the agent runs, holds, and says so in status")
    func unreachableTargetsAtStart() async throws {
        try await IntegrationFleet.with(size: 3) { fleet in
            // The whole fleet's upstream is down at boot: every probe goes, bound to `lo`, to an address
            // nothing answers (the SYN loops back on `lo` and is dropped: a timeout, as for a dead
            // upstream). A closed port would not do: its RST proves the path works.
            for i in 0..<3 {
                try Self.edit(fleet, node: i, "tcp 127.0.0.1:\(fleet.probePort)", "tcp 198.18.255.254:9")
            }
            fleet.start(1)
            fleet.start(2)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["run", "--config", fleet.nodeFile(0)]
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = nil
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer {
                if process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
            }
            let statuses = try await fleet.waitUntil([0], "n0 runs and reports its probes failing") { s in
                s.probes.count == 1 && !s.probes[0].ok && s.freshPeers == 2
            }
            #expect(process.isRunning)
            #expect(statuses[0].diagnosis.contains("upstream") || statuses[0].decision.state != .healthy)
            // Held for a while: no heal, since every peer fails upstream too.
            try await Task.sleep(for: .seconds(4))
            let later = try await fleet.status(0)
            #expect(process.isRunning)
            #expect(later.heals.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(fleet.directory)/healed-n0"))
            print("STARTUP-FAULT unreachable targets: \(later.decision.state) \(later.decision.rule.id) — \(later.diagnosis)")
            process.terminate()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }

    /// A UDP socket bound to 127.0.0.1:`port` (held by the caller).
    static func bindUDP(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        sin.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw FixtureError("bind \(port) failed: errno \(errno)")
        }
        return fd
    }
}
