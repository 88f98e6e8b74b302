import ArgumentParser
import Foundation
import NetHealConfig

/// `netheal-cluster config`: configuration tools.
public struct ConfigCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check cluster and node configuration files.",
        subcommands: [ConfigCheckCommand.self]
    )

    public init() {}
}

/// `netheal-cluster config check PATH…`: validates files and lists every problem.
public struct ConfigCheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate cluster and node files; list every problem as FILE:LINE:COL.",
        discussion: """
            Each PATH is a cluster file or a node file (told apart by their top-level keys). A node file is checked together with the cluster file it names. When a node's secret key file is readable, its public key must match the member's `public_key`. A missing or unreadable key file is a warning (the check may run on a machine that is not the node), or a problem with --require-keys. Several files are also checked against each other: cluster files with the same cluster_id must be byte-identical, and no two node files may claim the same member.

            Exit status: 0 when there is no problem (warnings allowed), 1 otherwise.
            """
    )

    /// The files to check.
    @Argument(help: ArgumentHelp("Cluster files and node files.", valueName: "path"))
    public var paths: [String]

    /// Treat missing or unreadable secret key files as problems.
    @Flag(name: .long, help: "Treat a missing or unreadable secret key file as a problem (run it on the node, as root).")
    public var requireKeys = false

    /// Machine-readable output.
    @Flag(name: .long, help: "Print the result as one JSON object.")
    public var json = false

    public init() {}

    public func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one cluster or node file") }
    }

    public func run() throws {
        let report = ConfigCheck.run(paths: paths, requireKeys: requireKeys)
        print(json ? report.json() : report.text(), terminator: "")
        if !report.ok { throw ExitCode.failure }
    }
}
