import NetHealAgent

/// Runs the command line with async subcommands (`run`, `simulate`, `lab`).
public enum Entry {
    /// Process set-up that must happen before the first `await`: for `run` (the daemon), one
    /// thread for I/O and tasks (`DaemonProcess.prepare`). Other subcommands keep the defaults.
    public static func prepare() {
        if CommandLine.arguments.dropFirst().first == "run" { DaemonProcess.prepare() }
    }

    /// Parses `CommandLine.arguments` and runs the chosen subcommand.
    public static func main() async {
        await NetHealClusterCommand.main(nil)
    }
}
