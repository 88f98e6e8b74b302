import Foundation

/// What an interface looked like at one moment: link state, addresses and (main-table) routes,
/// as reported by `ip -json link/addr/route show dev IF` (IPv4 and IPv6).
public struct InterfaceSnapshot: Codable, Equatable, Sendable {
    /// The interface name.
    public var interface: String
    /// Administratively up (the `UP` flag).
    public var adminUp: Bool
    /// The kernel's operstate (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, …).
    public var operState: String
    /// Addresses in the order `ip` reported them.
    public var addresses: [InterfaceAddress]
    /// Routes through this interface in the main table, in the order `ip` reported them.
    public var routes: [InterfaceRoute]
    /// Wall-clock time of the snapshot, in milliseconds since the Unix epoch.
    public var takenAtMillis: Int64

    public init(
        interface: String, adminUp: Bool, operState: String, addresses: [InterfaceAddress],
        routes: [InterfaceRoute], takenAtMillis: Int64
    ) {
        self.interface = interface
        self.adminUp = adminUp
        self.operState = operState
        self.addresses = addresses
        self.routes = routes
        self.takenAtMillis = takenAtMillis
    }

    /// The link counts as up: administratively up and operstate `UP` or `UNKNOWN` (dummy, tun and
    /// some drivers never report `UP`).
    public var linkUp: Bool { adminUp && (operState == "UP" || operState == "UNKNOWN") }

    /// The default routes (IPv4 `default` / `0.0.0.0/0`, IPv6 `default` / `::/0`).
    public var defaultRoutes: [InterfaceRoute] { routes.filter(\.isDefault) }

    /// Addresses a restore re-adds: everything except what the kernel or an autoconfiguration
    /// client recreates by itself (IPv6 link-local, IPv6 `dynamic` SLAAC/temporary addresses).
    public var restorableAddresses: [InterfaceAddress] { addresses.filter(\.isRestorable) }

    /// Routes a restore re-adds: all but kernel-made ones (`proto kernel`, recreated with the
    /// address) and router-advertisement ones (`proto ra`, re-learned).
    public var restorableRoutes: [InterfaceRoute] { routes.filter(\.isRestorable) }

    /// The union of two snapshots' addresses and routes (this one first, then what only `other`
    /// has), keeping this snapshot's link state and time. Used to merge the last known-good
    /// baseline into the pre-heal snapshot.
    public func merging(_ other: InterfaceSnapshot) -> InterfaceSnapshot {
        var merged = self
        let addressKeys = Set(addresses.map(\.key))
        merged.addresses += other.addresses.filter { !addressKeys.contains($0.key) }
        let routeKeys = Set(routes.map(\.key))
        merged.routes += other.routes.filter { !routeKeys.contains($0.key) }
        return merged
    }
}

/// One address on an interface.
public struct InterfaceAddress: Codable, Hashable, Sendable, CustomStringConvertible {
    /// `inet` or `inet6`.
    public var family: String
    /// The address itself.
    public var local: String
    /// Prefix length.
    public var prefixLength: Int
    /// IPv4 broadcast address, if any.
    public var broadcast: String?
    /// Point-to-point peer address, if any.
    public var peer: String?
    /// `global`, `link`, `host`, …
    public var scope: String
    /// IPv4 label, if different from the interface name.
    public var label: String?
    /// Assigned by an autoconfiguration mechanism (DHCP client, SLAAC): has a finite lifetime.
    public var dynamic: Bool
    /// Remaining valid lifetime in seconds at snapshot time; nil = forever.
    public var validLifetimeSeconds: UInt32?
    /// Remaining preferred lifetime in seconds at snapshot time; nil = forever.
    public var preferredLifetimeSeconds: UInt32?
    /// `noprefixroute` was set.
    public var noPrefixRoute: Bool

    public init(
        family: String, local: String, prefixLength: Int, broadcast: String? = nil, peer: String? = nil,
        scope: String = "global", label: String? = nil, dynamic: Bool = false, validLifetimeSeconds: UInt32? = nil,
        preferredLifetimeSeconds: UInt32? = nil, noPrefixRoute: Bool = false
    ) {
        self.family = family
        self.local = local
        self.prefixLength = prefixLength
        self.broadcast = broadcast
        self.peer = peer
        self.scope = scope
        self.label = label
        self.dynamic = dynamic
        self.validLifetimeSeconds = validLifetimeSeconds
        self.preferredLifetimeSeconds = preferredLifetimeSeconds
        self.noPrefixRoute = noPrefixRoute
    }

    /// Identity for comparisons: family, address and prefix length.
    public var key: String { "\(family) \(local)/\(prefixLength)" }

    /// See `InterfaceSnapshot.restorableAddresses`.
    public var isRestorable: Bool {
        if family == "inet6" && (scope == "link" || dynamic) { return false }
        return true
    }

    public var description: String { "\(local)/\(prefixLength)" }
}

/// One route through an interface (main table).
public struct InterfaceRoute: Codable, Hashable, Sendable, CustomStringConvertible {
    /// `inet` or `inet6`.
    public var family: String
    /// Destination as `ip` prints it (`default`, `198.18.1.0/24`, `198.18.9.9`).
    public var destination: String
    /// Next hop, if any.
    public var gateway: String?
    /// Preferred source address, if any.
    public var preferredSource: String?
    /// Routing protocol (`kernel`, `static`, `dhcp`, `boot`, `ra`, …); nil = boot.
    public var proto: String?
    /// Scope (`link`, `host`); nil = global.
    public var scope: String?
    /// Metric; nil = the kernel default.
    public var metric: UInt32?
    /// Route flags such as `onlink`.
    public var flags: [String]

    public init(
        family: String, destination: String, gateway: String? = nil, preferredSource: String? = nil,
        proto: String? = nil, scope: String? = nil, metric: UInt32? = nil, flags: [String] = []
    ) {
        self.family = family
        self.destination = destination
        self.gateway = gateway
        self.preferredSource = preferredSource
        self.proto = proto
        self.scope = scope
        self.metric = metric
        self.flags = flags
    }

    /// A default route.
    public var isDefault: Bool { ["default", "0.0.0.0/0", "::/0"].contains(destination) }

    /// Identity for comparisons: family, destination, gateway and metric.
    public var key: String {
        "\(family) \(isDefault ? "default" : destination) via \(gateway ?? "-") metric \(metric.map(String.init) ?? "-")"
    }

    /// See `InterfaceSnapshot.restorableRoutes`.
    public var isRestorable: Bool { proto != "kernel" && proto != "ra" }

    public var description: String {
        var text = destination
        if let gateway { text += " via \(gateway)" }
        if let metric { text += " metric \(metric)" }
        return text
    }
}

/// What a snapshot lacks compared with an expected one: the pure diff behind restore and verify.
public struct SnapshotDiff: Codable, Equatable, Sendable {
    /// Expected restorable addresses that are absent.
    public var missingAddresses: [InterfaceAddress]
    /// Expected restorable routes that are absent.
    public var missingRoutes: [InterfaceRoute]
    /// Address families (`inet`, `inet6`) that had a default route and now have none.
    public var missingDefaultRouteFamilies: [String]

    /// True when nothing is missing.
    public var isEmpty: Bool {
        missingAddresses.isEmpty && missingRoutes.isEmpty && missingDefaultRouteFamilies.isEmpty
    }

    /// What `actual` lacks of `expected`'s restorable addresses and routes and of its default routes.
    public init(expected: InterfaceSnapshot, actual: InterfaceSnapshot) {
        let actualAddresses = Set(actual.addresses.map(\.key))
        let globalFamilies = Set(actual.addresses.filter { $0.scope == "global" }.map(\.family))
        // A dynamic (DHCP) address counts as present when the family has any global address:
        // a renewed lease may legitimately bring a different one.
        missingAddresses = expected.restorableAddresses.filter {
            !actualAddresses.contains($0.key) && !($0.dynamic && globalFamilies.contains($0.family))
        }
        let actualRoutes = Set(actual.routes.map(\.key))
        missingRoutes = expected.restorableRoutes.filter { !actualRoutes.contains($0.key) }
        let expectedFamilies = Set(expected.defaultRoutes.map(\.family))
        let actualFamilies = Set(actual.defaultRoutes.map(\.family))
        missingDefaultRouteFamilies = expectedFamilies.subtracting(actualFamilies).sorted()
    }
}
