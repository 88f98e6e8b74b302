import NIOCore
import NetHealCore
import NetHealWire

extension AgentEngine {
    /// Receives `batch` in order (one hop onto the engine for all of them).
    func receive(_ batch: [InboundDatagram]) async {
        for datagram in batch { await receive(datagram) }
    }

    /// Decodes one admitted datagram with the total decoder and the per-origin watermarks, and feeds
    /// the accepted views to the core. The sender's own view counts as direct contact only when the
    /// datagram came from that member's FIRST configured gossip address: its data path, on the
    /// managed interface. Reachability is judged on the data path; further addresses (a management
    /// network) carry views and verdicts, so a node whose data interface is wedged still hears its
    /// accusers, but they never make the node look reachable.
    ///
    /// Relayed views that are newer but would change nothing the core decides with are skipped before
    /// their signature is checked (`NodeCore.relayedViewIsRedundant`): at 20 members this halves the
    /// verifications (docs/performance.md §5).
    func receive(_ datagram: InboundDatagram) async {
        let arrival = clock.now()
        let core = self.core
        let rule = RelaySkipRule(receiver: core.me) {
            core.relayedViewIsRedundant(
                origin: $0.origin, upstream: $0.upstream, decision: $0.decision, reachOfMe: $0.reachOfReceiver, now: arrival)
        }
        switch decoder.decode(datagram.bytes, watermarks: &watermarks, skipRule: rule) {
        case .failure(let error):
            counters.rejected[error.reason, default: 0] += 1
            metrics.viewRejected(error)
            logger.debug("datagram rejected", metadata: ["from": "\(datagram.source)", "error": "\(error)"])
            watchdog.beat(.decisionLoop)
        case .success(let decoded):
            let now = clock.now()
            let origin = decoded.sender.origin
            let direct = peerAddresses[origin.int].first.map { Self.sameEndpoint($0, datagram.source) } ?? false
            if !direct { counters.indirectSenders += 1 }
            var inputs: [CoreInput] = []
            for (position, signed) in decoded.views.enumerated() {
                let isDirect = position == 0 && direct
                let o = signed.origin.int
                latest[o] = signed
                receivedAt[o] = now
                if isDirect { lastDirect[o] = now }
                counters.viewsAccepted += 1
                if position > 0 { counters.viewsRelayedAccepted += 1 }
                metrics.viewAccepted(direct: isDirect)
                inputs.append(.viewReceived(signed.view, direct: isDirect))
            }
            counters.relayedSkipped += decoded.skippedRelayed
            counters.relayedRedundant += decoded.skippedRedundant
            await handle(inputs)
        }
    }

    /// Same IP address and port (IPv4-mapped IPv6 sources compare as their IPv4 address).
    static func sameEndpoint(_ configured: SocketAddress, _ source: SocketAddress) -> Bool {
        guard configured.port == source.port else { return false }
        let a = IPBytes.of(configured)
        var b = IPBytes.of(source)
        if a.count == 4, b.count == 16, b.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) {
            b = Array(b.suffix(4))
        }
        return !a.isEmpty && a == b
    }
}
