import ArgumentParser
import Foundation
import NetHealAgent

/// `netheal-cluster run --config NODE.yaml`: the daemon.
public struct RunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent (under systemd: Type=notify; SIGTERM stops, SIGHUP reloads the configuration).",
        discussion: """
            Loads the node file and the cluster file it names, the secret key, and the state directory; completes \
            an unfinished heal first; then gossips, probes and heals. See docs/operations.md.
            """
    )

    /// The node file.
    @Option(name: .long, help: ArgumentHelp("The node file.", valueName: "path"))
    public var config: String = "/etc/netheal/node.yaml"

    /// Diagnostics only: do not bind probe sockets to the managed interface.
    @Flag(
        name: .long,
        help: "Do not bind probes to the managed interface (diagnostics only: probes then prove nothing about it).")
    public var noBindProbes = false

    public init() {}

    public func run() async throws {
        let options = AgentOptions(
            nodeFile: config, bindProbesToInterface: !noBindProbes, notifier: .fromProcessEnvironment())
        do {
            try await NetHealAgentService.runUntilSignalled(options: options)
        } catch {
            printError("netheal-cluster run: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Writes one line to standard error.
func printError(_ text: String) {
    var stream = StandardError()
    print(text, to: &stream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
