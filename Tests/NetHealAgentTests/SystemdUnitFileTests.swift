import Foundation
import Testing

/// `systemd-analyze verify` on the shipped unit, with ExecStart pointed at an existing binary.
@Suite("cluster-config/netheal.service")
struct SystemdUnitFileTests {
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static var unitPath: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cluster-config/netheal.service")
    }

    @Test(.enabled(if: analyze != nil, "systemd-analyze is not installed (apt-get install -y systemd)"))
    func theShippedUnitVerifiesCleanly() throws {
        let unit = try String(contentsOf: Self.unitPath, encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/bin/netheal-cluster run --config /etc/netheal/node.yaml\n"))
        let output = try verify(
            unit.replacingOccurrences(
                of: "ExecStart=/usr/bin/netheal-cluster", with: "ExecStart=/bin/true"))
        #expect(output.status == 0, "systemd-analyze verify exited \(output.status): \(output.text)")
        #expect(output.text.isEmpty, "systemd-analyze verify complained:\n\(output.text)")
    }

    @Test(.enabled(if: analyze != nil, "systemd-analyze is not installed"))
    func theVerifierReallyCatchesMistakes() throws {
        // Control: the same check fails on a broken copy, so a clean result above means something.
        let unit = try String(contentsOf: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/bin/netheal-cluster", with: "ExecStart=/bin/true")
            .replacingOccurrences(of: "Type=notify", with: "Type=notifyy")
        let output = try verify(unit)
        #expect(output.text.contains("Failed to parse service type"))
    }

    @Test func theUnitHasTheSettingsHealingDependsOn() throws {
        let unit = try String(contentsOf: Self.unitPath, encoding: .utf8)
        let settings = Set(unit.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        for line in [
            "Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "Restart=on-failure",
            "ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict", "NoNewPrivileges=yes",
            "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_CHOWN",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET",
            "StateDirectory=netheal", "RuntimeDirectory=netheal", "KillMode=process",
        ] {
            #expect(settings.contains(line), "missing: \(line)")
        }
        // ifupdown writes /proc/sys/net/ipv6/conf/*: kernel tunables must stay writable.
        #expect(!settings.contains("ProtectKernelTunables=yes"))
        // Every setting is directly preceded by a comment explaining it.
        let lines = unit.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where line.contains("=") && !line.hasPrefix("#") {
            let previous = index > 0 ? lines[index - 1] : ""
            #expect(previous.hasPrefix("#"), "line \(index + 1) needs a comment: \(line)")
        }
    }

    private func verify(_ unitText: String) throws -> (status: Int32, text: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "netheal-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("netheal.service")
        try unitText.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.analyze!)
        process.arguments = ["verify", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus,
            String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }
}
