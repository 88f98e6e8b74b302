import Foundation

/// Helpers for tests that build real network namespaces (root only). Every name starts with
/// `nhh-<pid>-`, every address is in 198.18.0.0/15, and everything is removed by `destroy()`.
public enum NamespaceLab {
    /// True when the process can create namespaces (runs as root).
    public static var isRoot: Bool { geteuid() == 0 }

    /// The message tests print when they skip because they are not root.
    public static let notRootMessage = "skipped: namespace tests need root (ip netns, veth, ifupdown)"

    /// The result of a lab command.
    public struct Output: Sendable {
        /// Exit status (or 128 + signal).
        public var status: Int32
        /// Captured stdout.
        public var stdout: String
        /// Captured stderr.
        public var stderr: String
    }

    /// A lab command that failed.
    public struct CommandFailed: Error, CustomStringConvertible {
        /// The argv.
        public var argv: [String]
        /// What it printed.
        public var output: Output
        public var description: String {
            "lab command failed (status \(output.status)): \(argv.joined(separator: " ")): \(output.stderr)"
        }
    }

    /// Runs an argv (no shell) and waits for it.
    @discardableResult
    public static func run(_ argv: [String]) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Output(status: 127, stdout: "", stderr: "\(error)")
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        return Output(
            status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs an argv and throws when it fails.
    @discardableResult
    public static func check(_ argv: [String]) throws -> Output {
        let output = run(argv)
        guard output.status == 0 else { throw CommandFailed(argv: argv, output: output) }
        return output
    }

    /// Removes lab namespaces and `/etc/netns` dirs left by earlier test processes that died
    /// (names `nhh-<pid>-…` whose pid is gone).
    public static func removeStale() {
        let names = run(["ip", "netns", "list"]).stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first }
        let etc = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []
        for name in Set(names.map(String.init) + etc).sorted() where name.hasPrefix("nhh-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 2, let pid = Int32(parts[1]), pid != getpid(), kill(pid, 0) != 0 else { continue }
            run(["ip", "netns", "del", name])
            try? FileManager.default.removeItem(atPath: "/etc/netns/" + name)
        }
    }
}

/// A "node" namespace joined by a veth pair to a "router" namespace: the node has
/// 198.18.`octet`.2/24 with a default route via the router's 198.18.`octet`.1.
public final class NamespacePair: @unchecked Sendable {
    /// The node namespace.
    public let node: String
    /// The router namespace.
    public let router: String
    /// The node's interface (inside `node`).
    public let nodeInterface: String
    /// The router's interface (inside `router`).
    public let routerInterface: String
    /// The node's address.
    public let nodeAddress: String
    /// The router's address (the node's gateway).
    public let routerAddress: String
    /// The prefix length of the link.
    public let prefixLength = 24
    /// A per-lab ifupdown state directory (used by `configureNodeWithIfupdown`).
    public let ifupdownStateDirectory: String

    /// Creates both namespaces and the veth, addresses the router, and (unless `configureNode` is
    /// false) addresses the node and adds its default route with `ip`. `tag` (≤ 4 characters)
    /// keeps concurrent labs of one test process apart.
    public init(tag: String, octet: Int, configureNode: Bool = true) throws {
        precondition(tag.count <= 4 && (0...255).contains(octet))
        let base = "nhh-\(getpid())-\(tag)"
        node = base + "-n"
        router = base + "-r"
        nodeInterface = "nh\(tag)n"
        routerInterface = "nh\(tag)r"
        nodeAddress = "198.18.\(octet).2"
        routerAddress = "198.18.\(octet).1"
        ifupdownStateDirectory = "/tmp/\(base)-ifstate"
        do {
            try NamespaceLab.check(["ip", "netns", "add", node])
            try NamespaceLab.check(["ip", "netns", "add", router])
            try NamespaceLab.check([
                "ip", "link", "add", nodeInterface, "netns", node, "type", "veth", "peer", "name", routerInterface,
                "netns", router,
            ])
            try exec(router, ["ip", "link", "set", "lo", "up"])
            try exec(router, ["ip", "addr", "add", "\(routerAddress)/\(prefixLength)", "dev", routerInterface])
            try exec(router, ["ip", "link", "set", routerInterface, "up"])
            try exec(node, ["ip", "link", "set", "lo", "up"])
            if configureNode {
                try exec(node, ["ip", "addr", "add", "\(nodeAddress)/\(prefixLength)", "dev", nodeInterface])
                try exec(node, ["ip", "link", "set", nodeInterface, "up"])
                try exec(node, ["ip", "route", "add", "default", "via", routerAddress, "dev", nodeInterface])
            }
        } catch {
            destroy()
            throw error
        }
    }

    /// Runs an argv inside a namespace (`ip netns exec NS …`) and throws when it fails.
    @discardableResult
    public func exec(_ namespace: String, _ argv: [String]) throws -> NamespaceLab.Output {
        try NamespaceLab.check(["ip", "netns", "exec", namespace] + argv)
    }

    /// The `ip netns exec NODE` prefix for commands that must run in the node namespace.
    public var nodePrefix: [String] { ["ip", "netns", "exec", node] }

    /// True when one ping from the node to the router is answered within a second.
    public func nodeReachesRouter() -> Bool {
        NamespaceLab.run(nodePrefix + ["ping", "-c", "1", "-W", "1", routerAddress]).status == 0
    }

    /// Writes `/etc/netns/NODE/network/interfaces` (static address and gateway for the node's
    /// interface) plus the `if-*.d` directories, and brings the interface up with `ifup --state-dir`.
    public func configureNodeWithIfupdown() throws {
        let etc = "/etc/netns/\(node)/network"
        let fm = FileManager.default
        for dir in ["if-pre-up.d", "if-up.d", "if-down.d", "if-post-down.d"] {
            try fm.createDirectory(atPath: etc + "/" + dir, withIntermediateDirectories: true)
        }
        try fm.createDirectory(atPath: ifupdownStateDirectory, withIntermediateDirectories: true)
        let config = """
            # netheal test lab \(node)
            iface \(nodeInterface) inet static
                address \(nodeAddress)/\(prefixLength)
                gateway \(routerAddress)

            """
        try config.write(toFile: etc + "/interfaces", atomically: true, encoding: .utf8)
        try exec(node, ["ifup", nodeInterface, "--state-dir", ifupdownStateDirectory])
    }

    /// Deletes both namespaces (which deletes the veth), `/etc/netns/NAME` and the ifupdown state
    /// directory. Safe to call more than once.
    public func destroy() {
        for namespace in [node, router] {
            NamespaceLab.run(["ip", "netns", "del", namespace])
            try? FileManager.default.removeItem(atPath: "/etc/netns/" + namespace)
        }
        try? FileManager.default.removeItem(atPath: ifupdownStateDirectory)
    }
}
