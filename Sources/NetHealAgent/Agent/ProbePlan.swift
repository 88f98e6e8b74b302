import NIOCore
import NetHealConfig
import NetHealCore

/// One probe round as configured: the node file's targets, resolved at run time (the gateway is
/// looked up in the routing table every round), run through the engine's `ProbeRunner`.
struct ProbePlan: Sendable {
    var targets: [NodeSettings.ProbeTarget]
    var interface: String
    var runner: ProbeRunner

    /// Runs the round; one result per configured target, in configuration order. A target that
    /// cannot be resolved (no default route via the interface) fails as a send error.
    func run() async -> (round: ProbeRoundResult, details: [ProbeStatus]) {
        var resolved: [(index: Int, target: ProbeTarget)] = []
        var failures: [Int: String] = [:]
        for (index, target) in targets.enumerated() {
            switch Self.resolve(target, interface: interface) {
            case .success(let probe): resolved.append((index, probe))
            case .failure(let reason): failures[index] = reason.description
            }
        }
        var outcomes: [Int: ProbeResult] = [:]
        if !resolved.isEmpty {
            do {
                let results = try await runner.run(resolved.map(\.target))
                for (slot, result) in zip(resolved, results) { outcomes[slot.index] = result }
            } catch {
                for slot in resolved { failures[slot.index] = "probe threads unavailable" }
            }
        }
        var round: [ProbeTargetResult] = []
        var details: [ProbeStatus] = []
        for (index, target) in targets.enumerated() {
            let name = target.description
            if let result = outcomes[index] {
                // The configured text, plus the address the gateway resolved to.
                let shown = target == .gateway ? result.target.description : name
                switch result.outcome {
                case .answered(let rtt):
                    round.append(ProbeTargetResult(target: name, outcome: .answered))
                    details.append(
                        ProbeStatus(
                            target: shown, outcome: "ok", ok: true,
                            rttMillis: Double(rtt.nanosecondsClamped) / 1e6))
                case .timedOut:
                    round.append(ProbeTargetResult(target: name, outcome: .timedOut))
                    details.append(ProbeStatus(target: shown, outcome: "timeout", ok: false, rttMillis: nil))
                case .sendError(let errno):
                    round.append(ProbeTargetResult(target: name, outcome: .sendError(errno.name)))
                    details.append(
                        ProbeStatus(
                            target: shown, outcome: "send error \(errno.name)", ok: false, rttMillis: nil))
                }
            } else {
                let reason = failures[index] ?? "not probed"
                round.append(ProbeTargetResult(target: name, outcome: .sendError(reason)))
                details.append(ProbeStatus(target: name, outcome: "send error: \(reason)", ok: false, rttMillis: nil))
            }
        }
        return (ProbeRoundResult(targets: round), details)
    }

    /// The probe for a configured target, or why there is none.
    static func resolve(_ target: NodeSettings.ProbeTarget, interface: String) -> Result<ProbeTarget, ResolveError> {
        do {
            switch target {
            case .gateway:
                guard let route = try GatewayDiscovery.preferred(interface: interface) else {
                    return .failure(ResolveError("no default route via \(interface)"))
                }
                return .success(ProbeTarget(address: route.gateway, method: .icmpEcho, name: "gateway"))
            case .icmp(let address):
                return .success(
                    ProbeTarget(
                        address: try SocketAddress(ipAddress: address.description, port: 0), method: .icmpEcho,
                        name: target.description))
            case .tcp(let hostPort):
                return .success(
                    ProbeTarget(
                        address: try SocketAddress(ipAddress: hostPort.host, port: Int(hostPort.port)),
                        method: .tcpConnect(port: Int(hostPort.port)), name: target.description))
            }
        } catch {
            return .failure(ResolveError("cannot resolve: \(error)"))
        }
    }

    struct ResolveError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
