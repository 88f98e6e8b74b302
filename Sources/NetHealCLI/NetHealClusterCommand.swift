import ArgumentParser

/// The `netheal-cluster` command: the root of every subcommand.
public struct NetHealClusterCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "netheal-cluster",
        abstract: "Heal this node's network interface only when the fleet agrees the fault is here.",
        subcommands: [
            RunCommand.self, StatusCommand.self, CheckCommand.self, ControlCommand.self, KeygenCommand.self,
            ConfigCommand.self, FleetCommand.self, SimulateCommand.self, LabCommand.self,
        ]
    )

    public init() {}
}
