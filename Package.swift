// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top:
//   NetHealCore      pure: member/view model and the decision core (no NIO, no sockets, no clock, no C)
//   NetHealWire      pure: the byte-exact signed view format (signing injected)
//   CSodium          system library: libsodium (apt: libsodium-dev)
//   NetHealSodium    the one Swift wrapper over CSodium (Ed25519, random, BLAKE2b)
//   NetHealConfig    cluster file + node file parsing and validation, key files
//   NetHealAgent     the SwiftNIO shell: UDP gossip, probes, heal actions, control socket, systemd
//   CPrefetch        one inline C function: the CPU's prefetch hint (Swift has none)
//   NetHealSimulator deterministic fleet simulator driving the same core
//   NetHealLab       a real fleet in network namespaces (lab scenarios, the demo)
//   NetHealBench     the `bench` figures: wire/crypto vs raw libsodium, decision step, gossip bandwidth
//   NetHealCLI       the `netheal-cluster` commands (swift-argument-parser)
let package = Package(
    name: "netheal-cluster",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "netheal-cluster", targets: ["netheal-cluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(name: "NetHealCore"),
        .target(name: "NetHealWire", dependencies: ["NetHealCore"]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "NetHealSodium", dependencies: ["CSodium", "NetHealWire"]),
        .target(name: "NetHealConfig", dependencies: ["NetHealCore", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "NetHealAgent",
            dependencies: [
                "NetHealCore", "NetHealWire", "NetHealSodium", "NetHealConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "CPrefetch"),
        .target(name: "NetHealSimulator", dependencies: ["NetHealCore", "NetHealWire", "NetHealSodium", "CPrefetch"]),
        .target(name: "NetHealLab", dependencies: ["NetHealCore", "NetHealSodium", "NetHealConfig"]),
        .target(name: "NetHealBench", dependencies: ["NetHealCore", "NetHealWire", "NetHealSodium", "CSodium"]),
        .target(name: "NetHealTestKit", dependencies: ["NetHealCore", "NetHealWire", "NetHealSodium"]),
        .target(
            name: "NetHealCLI",
            dependencies: [
                "NetHealCore", "NetHealWire", "NetHealSodium", "NetHealConfig", "NetHealAgent", "NetHealSimulator", "NetHealLab", "NetHealBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "netheal-cluster", dependencies: ["NetHealCLI"]),

        .testTarget(name: "NetHealCoreTests", dependencies: ["NetHealCore", "NetHealTestKit"]),
        .testTarget(name: "NetHealWireTests", dependencies: ["NetHealWire", "NetHealSodium", "NetHealTestKit"]),
        .testTarget(name: "NetHealSodiumTests", dependencies: ["NetHealSodium"]),
        .testTarget(name: "NetHealConfigTests", dependencies: ["NetHealConfig", "NetHealTestKit"]),
        .testTarget(name: "NetHealAgentTests", dependencies: ["NetHealAgent", "NetHealTestKit"]),
        .testTarget(name: "NetHealSimulatorTests", dependencies: ["NetHealSimulator", "NetHealTestKit"]),
        .testTarget(name: "NetHealLabTests", dependencies: ["NetHealLab", "NetHealTestKit"]),
        .testTarget(name: "NetHealBenchTests", dependencies: ["NetHealBench"]),
        .testTarget(
            name: "NetHealCLITests",
            dependencies: ["NetHealCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ]
)
