import NIOCore
import NetHealConfig
import NetHealCore
import NetHealSodium
import NetHealWire

extension AgentEngine {
    /// Applies a new configuration that loaded and validated completely (SIGHUP). Settings changes
    /// reach the core as `.settingsChanged`; a membership change (members, keys, order, cluster id, or
    /// this node's member) restarts the core with the new roster, keeping the pacing state. Returns one
    /// line per change, for the log. Throws, changing nothing, when the key in use is neither this
    /// member's `public_key` nor its `next_public_key` (a reload never switches keys: restart for that).
    func apply(_ new: NodeConfiguration, digest: UInt64) async throws(AgentStartupError) -> [String] {
        let member = new.cluster.members[new.memberIndex.int]
        guard member.keySlot(of: signer.publicKey) != nil else {
            throw .keyMismatch(
                keyFile: config.node.secretKeyFile, derived: PublicKeyText.format(signer.publicKey),
                member: member.name,
                clusterFile: new.cluster.path, configured: PublicKeyText.format(member.publicKey))
        }
        let addresses: [[SocketAddress]]
        do {
            addresses = try Self.socketAddresses(new)
        } catch {
            throw .setup("cannot use the new gossip addresses: \(error)")
        }
        let old = config
        var changes: [String] = []
        let newSettings = new.effectiveSettings
        config = new
        configDigest = digest
        peerAddresses = addresses
        if new.roster != old.roster || new.memberIndex != old.memberIndex {
            core = NodeCore(
                roster: new.roster, me: new.memberIndex, settings: newSettings, pacing: core.pacing,
                seed: incarnation &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(new.memberIndex.rawValue))
            decoder = DatagramDecoder(roster: new.roster, verifier: Ed25519Verifier())
            encoder = DatagramEncoder(roster: new.roster)
            var marks = ViewWatermarks(memberCount: new.roster.count)
            marks.pin(new.memberIndex)
            marks.wantRelayed(from: core.isFullMesh ? nil : core.neighbors)
            watermarks = marks
            latest = Array(repeating: nil, count: new.roster.count)
            receivedAt = Array(repeating: nil, count: new.roster.count)
            lastDirect = Array(repeating: nil, count: new.roster.count)
            settings = newSettings
            changes.append(
                "membership changed (\(old.roster.count) → \(new.roster.count) members, this node `\(member.name)` "
                    + "at index \(new.memberIndex.int)): decision core restarted with the new roster, pacing kept, views dropped"
            )
            // `handle` first re-applies the off switch and any open maintenance window to the new core.
            await handle([.started])
        } else if newSettings != settings {
            settings = newSettings
            changes.append("protocol settings changed: applied")
            await handle([.settingsChanged(newSettings)])
            watermarks.wantRelayed(from: core.isFullMesh ? nil : core.neighbors)
        } else if old.addresses != new.addresses {
            changes.append("peer gossip addresses changed: applied")
        }
        if new.ownAddresses != old.ownAddresses {
            changes.append(
                "this node's own gossip addresses changed: RESTART the agent to bind them (still bound to the old ones)"
            )
        }
        if new.node.interface != old.node.interface || new.node.healAction != old.node.healAction {
            let spec = HealActionSpec(new.healAction(step: 0))
            do {
                healer = try InterfaceHealer(interface: new.node.interface, action: spec, store: store, logger: logger)
                healerSpec = spec
                changes.append(
                    "heal action or interface changed: applied (\(new.node.interface), \(spec.kind.rawValue))")
            } catch {
                changes.append("new heal action refused, keeping the old one: \(error)")
            }
        }
        if new.node.interface != old.node.interface || newSettings.probeTimeout != probeRunner.settings.timeout {
            probeRunner = ProbeRunner(settings: Self.probeSettings(new, bind: bindProbes))
        }
        if new.node.probeTargets != old.node.probeTargets { changes.append("probe targets changed: applied") }
        if new.node.maintenanceWindows != old.node.maintenanceWindows {
            changes.append("maintenance windows changed: applied at the next tick")
        }
        for (what, changed) in [
            ("state_dir", new.node.stateDirectory != old.node.stateDirectory),
            (
                "control_socket",
                new.node.controlSocket != old.node.controlSocket || new.node.controlGroup != old.node.controlGroup
            ),
            ("metrics_listen", new.node.metricsListen != old.node.metricsListen),
            ("secret_key_file", new.node.secretKeyFile != old.node.secretKeyFile),
        ] where changed {
            changes.append("\(what) changed: takes effect at the next restart")
        }
        if changes.isEmpty { changes.append("no change") }
        return changes
    }
}
