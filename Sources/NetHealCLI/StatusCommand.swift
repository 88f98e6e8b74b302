import ArgumentParser
import Foundation
import NetHealAgent
import NetHealConfig

/// Where the agent's control socket is: `--socket`, or the node file's `control_socket`.
struct ControlSocketOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The control socket (default: the node file's control_socket).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("The node file naming the control socket.", valueName: "path"))
    var config: String = "/etc/netheal/node.yaml"

    /// The socket path; reads the node file only when `--socket` is not given.
    func socketPath() throws(ControlClientError) -> String {
        if let socket { return socket }
        do {
            return try ConfigLoader.loadNode(path: config).node.controlSocket
        } catch {
            if access(config, F_OK) != 0 { return NodeSettings.defaultControlSocket }
            throw ControlClientError(path: config, message: "cannot read the node file: \(error)")
        }
    }
}

/// `netheal-cluster status`: the agent's view of this node and the fleet.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this node's decision, probes, peers, reachability matrix, heals and counters.",
        discussion: "Reads the running agent's control socket. Fields and what to do: docs/operations.md."
    )

    @OptionGroup var control: ControlSocketOptions

    @Flag(name: .long, help: "Print the status as JSON.")
    var json = false

    @Flag(name: .long, help: "Redraw every second until interrupted.")
    var watch = false

    @Flag(name: .long, help: "Never use colour (default: colour on a terminal).")
    var noColor = false

    public init() {}

    public func run() throws {
        let client: ControlClient
        do {
            client = ControlClient(path: try control.socketPath())
        } catch {
            printError("netheal-cluster status: \(error)")
            throw ExitCode.failure
        }
        let tty = isatty(STDOUT_FILENO) == 1
        repeat {
            let text: String
            do {
                let status = try client.status()
                text =
                    json ? ControlCoding.pretty(status) + "\n" : StatusRendering.render(status, color: tty && !noColor)
            } catch {
                if !watch {
                    printError("netheal-cluster status: \(error)")
                    throw ExitCode.failure
                }
                text = "netheal-cluster status: \(error)\n"
            }
            if watch && tty { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(text, terminator: "")
            fflush(nil)
            if watch { Thread.sleep(forTimeInterval: 1) }
        } while watch
    }
}

/// `netheal-cluster control disable|enable`: the operator's off switch (persisted by the agent).
public struct ControlCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Switch healing off or on (the agent keeps probing and gossiping; it never heals while off).",
        discussion: "The switch survives agent restarts (stored in the state directory)."
    )

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case disable, enable
    }

    @Argument(help: "disable or enable")
    var action: Action

    @OptionGroup var control: ControlSocketOptions

    public init() {}

    public func run() throws {
        do {
            let client = ControlClient(path: try control.socketPath())
            let response = try client.send(ControlRequest(command: action == .disable ? .disable : .enable))
            guard response.ok, let status = response.status else {
                printError("netheal-cluster control: \(response.error ?? "the agent refused")")
                throw ExitCode.failure
            }
            print(
                "\(status.node): healing \(status.healingEnabled ? "enabled" : "disabled"); state \(status.decision.state) (\(status.decision.rule.id))"
            )
        } catch let error as ControlClientError {
            printError("netheal-cluster control: \(error)")
            throw ExitCode.failure
        }
    }
}
