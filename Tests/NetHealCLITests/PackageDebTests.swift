import Foundation
import Testing

/// Builds the Debian package from the debug binary `swift build` made (a release build takes too
/// long for a test) and checks it in throwaway roots: `packaging/test-package.sh` does the work
/// and says what it checks. Needs dpkg, dpkg-deb and gzip (Debian); never touches the real system.
@Suite("Debian package")
struct PackageDebTests {
    @Test(.timeLimit(.minutes(3)))
    func packageBuildsInstallsAndNeverStartsUnconfigured() throws {
        let root = CLITestFiles.repositoryRoot
        let binary = try Self.builtBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("packaging/test-package.sh").path, binary]
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "packaging/test-package.sh failed:\n\(output)")
        for check in [
            "files, owners and modes", "unit identical", "unconfigured root: installed, nothing enabled or started",
            "invalid node.yaml", "valid node.yaml: enabled, not started",
            "valid node.yaml + /etc/netheal/start-on-install: enabled and started",
            "remove: agent stopped",
            "purge: /var/lib/netheal removed",
        ] {
            #expect(output.contains("PASS: \(check)"), "missing check `\(check)` in:\n\(output)")
        }
    }

    /// The `netheal-cluster` executable next to this test bundle (`swift build`/`swift test` build it).
    static func builtBinary() throws -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("netheal-cluster")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = CLITestFiles.repositoryRoot.appendingPathComponent(".build/debug/netheal-cluster").path
        guard FileManager.default.isExecutableFile(atPath: fallback) else {
            Issue.record("no netheal-cluster executable next to the tests or at \(fallback): run `swift build` first")
            throw CancellationError()
        }
        return fallback
    }
}
