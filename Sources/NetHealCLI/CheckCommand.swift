import ArgumentParser
import Foundation
import NetHealAgent

/// `netheal-cluster check`: a Nagios/Icinga plugin (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Monitoring plugin: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: "What each state means and what to do: docs/operations.md (\"Nagios/Icinga check\")."
    )

    @OptionGroup var control: ControlSocketOptions

    public init() {}

    public func run() throws {
        let verdict: CheckEvaluation.Verdict
        do {
            let client = ControlClient(path: try control.socketPath())
            verdict = CheckEvaluation.evaluate(try client.status())
        } catch {
            verdict = CheckEvaluation.unknown(reason: "\(error)")
        }
        print(verdict.line)
        throw ExitCode(verdict.code.rawValue)
    }
}
