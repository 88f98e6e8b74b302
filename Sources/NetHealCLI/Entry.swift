/// Runs the command line with async subcommands (`run`, `simulate`, `lab`).
public enum Entry {
    /// Parses `CommandLine.arguments` and runs the chosen subcommand.
    public static func main() async {
        await NetHealClusterCommand.main(nil)
    }
}
