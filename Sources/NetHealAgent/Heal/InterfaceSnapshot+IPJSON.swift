import Foundation

/// Parsing of `ip -json` output into `InterfaceSnapshot` parts (pure; unit-tested on fixtures).
extension InterfaceSnapshot {
    /// A failure to understand `ip -json` output.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// What was being parsed and why it failed.
        public var message: String
        public var description: String { message }
    }

    /// Builds a snapshot from `ip -json addr show dev IF` and the IPv4/IPv6 `ip -json route show dev IF`.
    public static func parse(
        interface: String, addrJSON: String, routes4JSON: String, routes6JSON: String, takenAtMillis: Int64
    ) throws(ParseError) -> InterfaceSnapshot {
        let links: [IPLink] = try decode(addrJSON, what: "ip -json addr show dev \(interface)")
        guard let link = links.first(where: { $0.ifname == interface }) ?? links.first else {
            throw ParseError(message: "ip -json addr show dev \(interface): no such interface in the output")
        }
        let forever: UInt32 = 4_294_967_295
        let addresses = (link.addr_info ?? []).compactMap { info -> InterfaceAddress? in
            guard let family = info.family, let local = info.local, let prefix = info.prefixlen else { return nil }
            return InterfaceAddress(
                family: family, local: local, prefixLength: prefix, broadcast: info.broadcast,
                peer: info.address, scope: info.scope ?? "global",
                label: info.label == interface ? nil : info.label, dynamic: info.dynamic ?? false,
                validLifetimeSeconds: info.valid_life_time.flatMap { $0 >= forever ? nil : $0 },
                preferredLifetimeSeconds: info.preferred_life_time.flatMap { $0 >= forever ? nil : $0 },
                noPrefixRoute: info.noprefixroute ?? false)
        }
        let routes4: [IPRoute] = try decode(routes4JSON, what: "ip -json route show dev \(interface)")
        let routes6: [IPRoute] = try decode(routes6JSON, what: "ip -6 -json route show dev \(interface)")
        let routes = routes4.compactMap { $0.route(family: "inet") } + routes6.compactMap { $0.route(family: "inet6") }
        return InterfaceSnapshot(
            interface: interface, adminUp: (link.flags ?? []).contains("UP"), operState: link.operstate ?? "UNKNOWN",
            addresses: addresses, routes: routes, takenAtMillis: takenAtMillis)
    }

    private static func decode<T: Decodable>(_ text: String, what: String) throws(ParseError) -> T {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // `ip -json route` prints nothing at all for an interface without routes on some versions.
        let data = Data((trimmed.isEmpty ? "[]" : trimmed).utf8)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw ParseError(message: "\(what): unexpected output (\(error)): \(trimmed.prefix(200))")
        }
    }
}

// Field names follow iproute2's JSON.
// swiftlint:disable identifier_name
private struct IPLink: Decodable {
    var ifname: String?
    var flags: [String]?
    var operstate: String?
    var addr_info: [IPAddrInfo]?
}

private struct IPAddrInfo: Decodable {
    var family: String?
    var local: String?
    var address: String?
    var prefixlen: Int?
    var broadcast: String?
    var scope: String?
    var label: String?
    var dynamic: Bool?
    var noprefixroute: Bool?
    var valid_life_time: UInt32?
    var preferred_life_time: UInt32?
}

private struct IPRoute: Decodable {
    var dst: String?
    var gateway: String?
    var prefsrc: String?
    var `protocol`: String?
    var scope: String?
    var metric: UInt32?
    var flags: [String]?
    var type: String?

    func route(family: String) -> InterfaceRoute? {
        guard let dst else { return nil }
        // Only unicast routes are restorable with `ip route replace DST dev IF`.
        if let type, type != "unicast" { return nil }
        return InterfaceRoute(
            family: family, destination: dst, gateway: gateway, preferredSource: prefsrc, proto: `protocol`,
            scope: scope == "global" ? nil : scope, metric: metric, flags: flags ?? [])
    }
}
// swiftlint:enable identifier_name
