/// The `ip` (iproute2) argvs the healer uses: snapshots, link cycling and restore (all pure).
public enum IPCommands {
    /// `ip link set dev IF up|down`.
    public static func linkSet(_ interface: String, up: Bool) -> [String] {
        ["ip", "link", "set", "dev", interface, up ? "up" : "down"]
    }

    /// `ip -json addr show dev IF`.
    public static func showAddresses(_ interface: String) -> [String] {
        ["ip", "-json", "addr", "show", "dev", interface]
    }

    /// `ip [-6] -json route show dev IF` (main table).
    public static func showRoutes(_ interface: String, ipv6: Bool) -> [String] {
        ["ip"] + (ipv6 ? ["-6"] : ["-4"]) + ["-json", "route", "show", "dev", interface]
    }

    /// `ip -4|-6 addr add …` re-creating `address` on `interface`, or nil when a dynamic address's
    /// lifetime has run out since the snapshot (`elapsedSeconds` ago). IPv6 addresses are added
    /// with `nodad`: they passed duplicate address detection before the heal.
    public static func addAddress(_ address: InterfaceAddress, interface: String, elapsedSeconds: Int64) -> [String]? {
        var argv = ["ip", address.family == "inet6" ? "-6" : "-4", "addr", "add"]
        if let peer = address.peer, peer != address.local {
            argv += [address.local, "peer", "\(peer)/\(address.prefixLength)"]
        } else {
            argv += ["\(address.local)/\(address.prefixLength)"]
        }
        argv += ["dev", interface]
        if let broadcast = address.broadcast { argv += ["broadcast", broadcast] }
        if address.scope != "global" { argv += ["scope", address.scope] }
        if let label = address.label { argv += ["label", label] }
        if let valid = address.validLifetimeSeconds {
            let remaining = Int64(valid) - elapsedSeconds
            guard remaining > 0 else { return nil }
            let preferred = max(0, min(remaining, Int64(address.preferredLifetimeSeconds ?? valid) - elapsedSeconds))
            argv += ["valid_lft", String(remaining), "preferred_lft", String(preferred)]
        }
        if address.noPrefixRoute { argv += ["noprefixroute"] }
        if address.family == "inet6" { argv += ["nodad"] }
        return argv
    }

    /// `ip -4|-6 route replace …` re-creating `route` through `interface` (idempotent).
    public static func replaceRoute(_ route: InterfaceRoute, interface: String) -> [String] {
        var argv = ["ip", route.family == "inet6" ? "-6" : "-4", "route", "replace", route.destination]
        if let gateway = route.gateway { argv += ["via", gateway] }
        argv += ["dev", interface]
        if let proto = route.proto { argv += ["proto", proto] }
        if let scope = route.scope { argv += ["scope", scope] }
        if let source = route.preferredSource { argv += ["src", source] }
        if let metric = route.metric { argv += ["metric", String(metric)] }
        if route.flags.contains("onlink") { argv += ["onlink"] }
        return argv
    }

    /// The commands that bring `actual` back to `expected` (pure): link up when it is down, then
    /// the missing restorable addresses, then the missing restorable routes — direct routes before
    /// routes via a gateway, so every gateway is reachable when its route is added.
    public static func restorePlan(expected: InterfaceSnapshot, actual: InterfaceSnapshot, nowMillis: Int64) -> [[String]] {
        let interface = expected.interface
        var plan: [[String]] = []
        if !actual.adminUp { plan.append(linkSet(interface, up: true)) }
        let diff = SnapshotDiff(expected: expected, actual: actual)
        let elapsed = max(0, (nowMillis - expected.takenAtMillis) / 1000)
        plan += diff.missingAddresses.compactMap { addAddress($0, interface: interface, elapsedSeconds: elapsed) }
        let direct = diff.missingRoutes.filter { $0.gateway == nil }
        let viaGateway = diff.missingRoutes.filter { $0.gateway != nil }
        plan += (direct + viaGateway).map { replaceRoute($0, interface: interface) }
        return plan
    }
}
