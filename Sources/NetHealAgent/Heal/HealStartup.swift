import Logging

/// The start sequence the agent runs before anything else touches the network: open the state
/// directory, take the next incarnation (persisted before use), build the healer, and complete
/// an unfinished heal left by a crash — so gossip and probes only start once the interface is back.
public struct HealStartup: Sendable {
    /// The opened state directory.
    public var store: StateStore
    /// This run's incarnation (strictly larger than any earlier run's).
    public var incarnation: UInt64
    /// The healer for the managed interface.
    public var healer: InterfaceHealer
    /// The report of the completed unfinished heal, or nil when there was none.
    public var recovery: HealReport?

    /// Runs the start sequence. Throws when the action or interface name is invalid (checked
    /// before anything is touched) or the state directory is unusable (refused or unwritable);
    /// the agent must not start then.
    public static func run(
        stateDirectory: String, interface: String, action: HealActionSpec, runner: CommandRunner = CommandRunner(),
        logger: Logger = Logger(label: "netheal.heal")
    ) async throws -> HealStartup {
        // Settings first: a bad action or interface name must fail before the state directory is
        // created or the incarnation counted up (nothing changed on the host).
        try InterfaceHealer.validate(interface: interface, action: action)
        let store = try StateStore(directory: stateDirectory, logger: logger)
        let incarnation = try store.nextIncarnation()
        let healer = try InterfaceHealer(interface: interface, action: action, store: store, runner: runner, logger: logger)
        let recovery = try await healer.recoverUnfinishedHeal(incarnation: incarnation)
        if let recovery { logger.notice("start: \(recovery.summary)") }
        return HealStartup(store: store, incarnation: incarnation, healer: healer, recovery: recovery)
    }
}
