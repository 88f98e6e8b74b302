import NetHealCore
import Testing

@testable import NetHealSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// Every scenario shipped in simulations/ passes under the real core.
@Suite struct ScenarioFileTests {
    static let files: [String] = {
        guard let dir = opendir(repoRoot + "/simulations") else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".scenario") { names.append(name) }
        }
        return names.sorted()
    }()

    static func read(_ path: String) throws -> String {
        guard let f = fopen(path, "rb") else { throw ScenarioError(file: path, line: 0, message: "cannot open") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let k = fread(&buf, 1, buf.count, f)
            if k <= 0 { break }
            bytes += buf[0..<k]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func theRequiredScenariosExist() {
        #expect(Self.files.count >= 20)
        for required in ["one-wedged-nic", "upstream-outage-5", "upstream-outage-50", "upstream-outage-500",
            "rack-uplink-loss", "partition-3-2", "partition-bridge", "isolated-node", "one-way-tx", "one-way-rx",
            "random-loss-20", "random-loss-40", "outage-plus-wedge", "two-wedged", "flapping-upstream",
            "crash-mid-heal", "replayed-stale", "forged-datagram"]
        {
            #expect(Self.files.contains(required + ".scenario"), "missing simulations/\(required).scenario")
        }
    }

    @Test(arguments: files)
    func scenarioPasses(_ name: String) throws {
        let path = "simulations/" + name
        let s = try Scenario.parse(try Self.read(repoRoot + "/" + path), file: path)
        let r = try SimulationRunner.run(s)
        #expect(r.passed, "\(ResultText.body(r))")
    }
}
