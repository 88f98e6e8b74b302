import Logging
import NIOCore
import NetHealConfig
import NetHealCore
import NetHealSodium

/// The start sequence, in the order that keeps the interface safe: load and check the configuration
/// and the key, check that the interface exists and the gossip ports are free (nothing is written
/// before these checks), open the state directory, take the next incarnation (persisted before use),
/// complete an unfinished heal FIRST, then restore the pacing state the core starts from.
struct AgentSetup: Sendable {
    var config: NodeConfiguration
    var signer: Ed25519Signer
    var store: StateStore
    var incarnation: UInt64
    var healer: InterfaceHealer
    var recovery: HealReport?
    var pacing: PacingState?
    var healingEnabled: Bool
    var configDigest: UInt64

    static func prepare(options: AgentOptions, logger: Logger) async throws -> AgentSetup {
        let config = try loadConfiguration(options.nodeFile)
        let signer = try loadKey(config)
        let digest = try configDigest(config.clusterFileBytes)
        if options.requireInterface { try checkInterface(config, nodeFile: options.nodeFile) }
        try checkGossipPorts(config)
        let startup: HealStartup
        do {
            startup = try await HealStartup.run(
                stateDirectory: config.node.stateDirectory, interface: config.node.interface,
                action: HealActionSpec(config.healAction(step: 0)), logger: logger)
        } catch let error as HealActionError {
            throw AgentStartupError.healAction(error.description)
        } catch {
            throw AgentStartupError.setup("cannot start: \(error)")
        }
        let incarnation = try raiseIncarnation(startup, clock: options.clock)
        let now = options.clock.now()
        var pacing: PacingState?
        var enabled = true
        switch startup.store.load(.pacing) {
        case .loaded(let saved):
            pacing = saved.restored(monotonicNow: now, wallNowMillis: options.clock.wallMillis())
            enabled = saved.healingEnabled
        case .missing:
            pacing = nil
        case .corrupt(let corruption):
            logger.error(
                "pacing state not trusted: no heal before a full backoff", metadata: ["reason": "\(corruption)"])
            pacing = PersistedPacing.conservative(settings: config.effectiveSettings, now: now)
        }
        return AgentSetup(
            config: config, signer: signer, store: startup.store, incarnation: incarnation, healer: startup.healer,
            recovery: startup.recovery, pacing: pacing, healingEnabled: enabled, configDigest: digest)
    }

    /// Loads the node file and the cluster file it names; every problem at once.
    static func loadConfiguration(_ path: String) throws(AgentStartupError) -> NodeConfiguration {
        do {
            return try ConfigLoader.loadNode(path: path)
        } catch {
            throw .configuration(error)
        }
    }

    /// Loads the secret key (refusing a file group or others can read) and checks that its public key
    /// is this member's `public_key` or, during a key rotation, its `next_public_key`.
    static func loadKey(_ config: NodeConfiguration) throws(AgentStartupError) -> Ed25519Signer {
        let loaded: LoadedMemberKey
        do {
            loaded = try config.loadMemberKey { try Ed25519Signer(seed: $0).publicKey }
        } catch {
            throw .secretKey(error)
        }
        do {
            return try Ed25519Signer(seed: loaded.seed)
        } catch {
            throw .setup("cannot derive the key pair from \(config.node.secretKeyFile): \(error)")
        }
    }

    /// The managed interface must exist before anything is written: otherwise every probe fails with
    /// ENODEV, the node looks isolated, and it would "heal" an interface that is not there.
    static func checkInterface(_ config: NodeConfiguration, nodeFile: String) throws(AgentStartupError) {
        let name = config.node.interface
        guard (try? Posix.interfaceIndex(name)) == nil else { return }
        throw .setup(
            "interface `\(name)` (\(nodeFile): interface) does not exist on this host — set `interface:` to the "
                + "managed data interface (`ip -brief link` lists them); if it is created late at boot (bond, VLAN, "
                + "renamed NIC), order netheal.service after it")
    }

    /// A gossip port held by another process is refused before the state directory is touched, unless
    /// an unfinished heal must be completed first (`GossipPortPreflight`).
    static func checkGossipPorts(_ config: NodeConfiguration) throws(GossipTransportError) {
        guard !GossipPortPreflight.unfinishedHealRecorded(stateDirectory: config.node.stateDirectory) else { return }
        let addresses = config.ownAddresses.compactMap { try? SocketAddress(ipAddress: $0.host, port: Int($0.port)) }
        try GossipPortPreflight.check(addresses)
    }

    /// First 8 bytes (big-endian) of the 32-byte BLAKE2b digest of the cluster file's bytes.
    static func configDigest(_ bytes: [UInt8]) throws(AgentStartupError) -> UInt64 {
        do {
            let digest = try Sodium.blake2b(bytes[...], length: 32)
            return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        } catch {
            throw .setup("cannot digest the cluster file: \(error)")
        }
    }

    /// `max(stored + 1, Unix seconds)`, persisted before it is used (docs/protocol.md §6.2).
    static func raiseIncarnation(_ startup: HealStartup, clock: AgentClock) throws(AgentStartupError) -> UInt64 {
        let floor = UInt64(max(1, clock.wallMillis() / 1000))
        guard startup.incarnation < floor else { return startup.incarnation }
        do {
            try startup.store.save(IncarnationRecord(incarnation: floor), to: .incarnation)
        } catch {
            throw .setup("cannot persist the incarnation: \(error)")
        }
        return floor
    }
}
