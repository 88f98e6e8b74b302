// libFuzzer target: the configuration parser (NetHealConfig).
//
// Every input is parsed as a cluster file, as a node file (whose cluster file is the valid example
// cluster file, so a mutated node file reaches the cross-file checks), as a node file whose cluster
// file is the input itself, and by the kind detector. Whatever the bytes, parsing must return a
// validated configuration or problems — never crash, trap, hang or read out of bounds (ASan).
// Every problem must name a file, and a parse that succeeds must be repeatable with the same result.
//
// Environment: NETHEAL_FUZZ_STATS=file writes the counters there at exit (key=value lines);
// NETHEAL_FUZZ_CLUSTER=file is the valid cluster file node files refer to (default: the example's).
import NetHealConfig

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var validCluster: [UInt8] = []
nonisolated(unsafe) var counts = (inputs: 0, clusterOK: 0, nodeOK: 0, problems: 0)
nonisolated(unsafe) var statsPath: String?

func readAll(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

func writeStats() {
    guard let path = statsPath, let file = fopen(path, "w") else { return }
    fputs(
        "inputs=\(counts.inputs)\nvalid_cluster_files=\(counts.clusterOK)\nvalid_node_files=\(counts.nodeOK)\nproblems_reported=\(counts.problems)\n",
        file)
    fclose(file)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let path = getenv("NETHEAL_FUZZ_CLUSTER").map { String(cString: $0) } ?? "cluster-config/example/cluster.yaml"
    guard let bytes = readAll(path) else { fatalError("cannot read the valid cluster file \(path) (set NETHEAL_FUZZ_CLUSTER)") }
    do {
        _ = try ConfigLoader.parseCluster(bytes, path: path)
    } catch {
        fatalError("the reference cluster file \(path) does not parse: \(error)")
    }
    validCluster = bytes
    statsPath = getenv("NETHEAL_FUZZ_STATS").map { String(cString: $0) }
    atexit { writeStats() }
    return 0
}

func check(_ problems: ConfigProblems) {
    counts.problems += problems.problems.count
    if problems.problems.isEmpty { fatalError("a parse failed without naming any problem") }
    for problem in problems.problems where problem.file.isEmpty { fatalError("a problem names no file: \(problem)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    counts.inputs += 1
    do {
        let first = try ConfigLoader.parseCluster(bytes, path: "fuzz/cluster.yaml")
        counts.clusterOK += 1
        let again = try ConfigLoader.parseCluster(bytes, path: "fuzz/cluster.yaml")
        if first != again {
            fatalError("parsing the same cluster file twice gave different results")
        }
    } catch {
        check(error)
    }
    do {
        _ = try ConfigLoader.parseNode(bytes, path: "fuzz/node.yaml") { _ throws(ConfigProblems) in validCluster }
        counts.nodeOK += 1
    } catch {
        check(error)
    }
    do {
        _ = try ConfigLoader.parseNode(bytes, path: "fuzz/node.yaml") { _ throws(ConfigProblems) in bytes }
    } catch {
        check(error)
    }
    _ = ConfigLoader.kind(of: bytes)
    return 0
}
