import Foundation
import Testing

@testable import NetHealAgent

/// `ip -json` output captured from iproute2 on Debian 12 (veth with IPv4, static IPv6, link-local).
private enum Fixture {
    static let addr = """
        [{"ifindex":3,"link":"nhx2","ifname":"eth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,\
        "qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether",\
        "address":"46:97:38:b1:f6:07","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet",\
        "local":"198.18.3.2","prefixlen":24,"broadcast":"198.18.3.255","scope":"global","label":"eth1",\
        "valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"198.18.4.9",\
        "prefixlen":24,"scope":"global","dynamic":true,"label":"eth1","valid_life_time":600,"preferred_life_time":300},\
        {"family":"inet6","local":"2001:db8::2","prefixlen":64,"scope":"global","nodad":true,\
        "valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6",\
        "local":"2001:db8::5cfe:1","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true,\
        "valid_life_time":86400,"preferred_life_time":14400},{"family":"inet6",\
        "local":"fe80::4497:38ff:feb1:f607","prefixlen":64,"scope":"link","valid_life_time":4294967295,\
        "preferred_life_time":4294967295}]}]
        """
    static let routes4 = """
        [{"dst":"default","gateway":"198.18.3.1","flags":[]},{"dst":"198.18.3.0/24","protocol":"kernel",\
        "scope":"link","prefsrc":"198.18.3.2","flags":[]},{"dst":"198.18.9.0/24","gateway":"198.18.3.7",\
        "protocol":"static","metric":50,"flags":["onlink"]},{"dst":"198.18.10.0/24","scope":"link","flags":[]},\
        {"type":"blackhole","dst":"198.18.11.0/24","flags":[]}]
        """
    static let routes6 = """
        [{"dst":"2001:db8::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},\
        {"dst":"fe80::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},\
        {"dst":"default","gateway":"2001:db8::1","metric":1024,"flags":[],"pref":"medium"}]
        """
    /// The same interface after `ip link set eth1 down`: IPv4 addresses stay, every route and
    /// every IPv6 address is gone.
    static let addrDown = """
        [{"ifindex":3,"ifname":"eth1","flags":["BROADCAST","MULTICAST"],"operstate":"DOWN","addr_info":[\
        {"family":"inet","local":"198.18.3.2","prefixlen":24,"broadcast":"198.18.3.255","scope":"global",\
        "label":"eth1","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet",\
        "local":"198.18.4.9","prefixlen":24,"scope":"global","dynamic":true,"label":"eth1",\
        "valid_life_time":590,"preferred_life_time":290}]}]
        """

    static func healthy() throws -> InterfaceSnapshot {
        try InterfaceSnapshot.parse(
            interface: "eth1", addrJSON: addr, routes4JSON: routes4, routes6JSON: routes6, takenAtMillis: 1_000_000)
    }

    static func down() throws -> InterfaceSnapshot {
        try InterfaceSnapshot.parse(
            interface: "eth1", addrJSON: addrDown, routes4JSON: "", routes6JSON: "[]", takenAtMillis: 1_010_000)
    }
}

@Suite("InterfaceSnapshot")
struct HealSnapshotTests {
    @Test("parses ip -json addr/route output")
    func parse() throws {
        let snapshot = try Fixture.healthy()
        #expect(snapshot.linkUp)
        #expect(snapshot.addresses.map(\.description) == [
            "198.18.3.2/24", "198.18.4.9/24", "2001:db8::2/64", "2001:db8::5cfe:1/64", "fe80::4497:38ff:feb1:f607/64",
        ])
        let first = snapshot.addresses[0]
        #expect(first.broadcast == "198.18.3.255" && first.label == nil && first.validLifetimeSeconds == nil)
        #expect(snapshot.addresses[1].dynamic && snapshot.addresses[1].validLifetimeSeconds == 600)
        // The blackhole route is not an interface route and is dropped.
        #expect(snapshot.routes.count == 7)
        #expect(snapshot.defaultRoutes.map(\.description) == ["default via 198.18.3.1", "default via 2001:db8::1 metric 1024"])
        #expect(snapshot.restorableAddresses.map(\.description) == ["198.18.3.2/24", "198.18.4.9/24", "2001:db8::2/64"])
        #expect(snapshot.restorableRoutes.map(\.description) == [
            "default via 198.18.3.1", "198.18.9.0/24 via 198.18.3.7 metric 50", "198.18.10.0/24",
            "default via 2001:db8::1 metric 1024",
        ])
    }

    @Test("unexpected output is a clear parse error")
    func parseError() {
        #expect(throws: InterfaceSnapshot.ParseError.self) {
            try InterfaceSnapshot.parse(
                interface: "eth1", addrJSON: "Device \"eth1\" does not exist.", routes4JSON: "[]", routes6JSON: "[]",
                takenAtMillis: 0)
        }
        #expect(throws: InterfaceSnapshot.ParseError.self) {
            try InterfaceSnapshot.parse(interface: "eth1", addrJSON: "[]", routes4JSON: "[]", routes6JSON: "[]", takenAtMillis: 0)
        }
    }

    @Test("the diff after a link cycle names the deleted default routes, routes and IPv6 address")
    func diffAfterLinkDown() throws {
        let diff = SnapshotDiff(expected: try Fixture.healthy(), actual: try Fixture.down())
        #expect(diff.missingAddresses.map(\.description) == ["2001:db8::2/64"])
        #expect(diff.missingDefaultRouteFamilies == ["inet", "inet6"])
        #expect(diff.missingRoutes.count == 4)
        #expect(!diff.isEmpty)
        #expect(SnapshotDiff(expected: try Fixture.healthy(), actual: try Fixture.healthy()).isEmpty)
    }

    @Test("a dynamic address counts as present when the family has another global address (renewed lease)")
    func dynamicAddressRenewed() throws {
        let expected = try Fixture.healthy()
        var actual = expected
        actual.addresses.removeAll { $0.local == "198.18.4.9" }
        #expect(SnapshotDiff(expected: expected, actual: actual).missingAddresses.isEmpty)
        actual.addresses.removeAll { $0.family == "inet" }
        #expect(SnapshotDiff(expected: expected, actual: actual).missingAddresses.map(\.description) == [
            "198.18.3.2/24", "198.18.4.9/24",
        ])
    }

    @Test("the restore plan: link up, addresses (IPv6 nodad, dynamic with remaining lifetime), direct routes, then via-gateway routes")
    func restorePlan() throws {
        let plan = IPCommands.restorePlan(expected: try Fixture.healthy(), actual: try Fixture.down(), nowMillis: 1_100_000)
        #expect(plan == [
            ["ip", "link", "set", "dev", "eth1", "up"],
            ["ip", "-6", "addr", "add", "2001:db8::2/64", "dev", "eth1", "nodad"],
            ["ip", "-4", "route", "replace", "198.18.10.0/24", "dev", "eth1", "scope", "link"],
            ["ip", "-4", "route", "replace", "default", "via", "198.18.3.1", "dev", "eth1"],
            ["ip", "-4", "route", "replace", "198.18.9.0/24", "via", "198.18.3.7", "dev", "eth1", "proto", "static", "metric", "50", "onlink"],
            ["ip", "-6", "route", "replace", "default", "via", "2001:db8::1", "dev", "eth1", "metric", "1024"],
        ])
        // Nothing to do when nothing is missing.
        #expect(IPCommands.restorePlan(expected: try Fixture.healthy(), actual: try Fixture.healthy(), nowMillis: 0).isEmpty)
    }

    @Test("a lost dynamic address is re-added with its remaining lifetime, or not at all once expired")
    func dynamicLifetimes() throws {
        let address = try Fixture.healthy().addresses[1]
        #expect(IPCommands.addAddress(address, interface: "eth1", elapsedSeconds: 100) == [
            "ip", "-4", "addr", "add", "198.18.4.9/24", "dev", "eth1", "valid_lft", "500", "preferred_lft", "200",
        ])
        #expect(IPCommands.addAddress(address, interface: "eth1", elapsedSeconds: 400)?.suffix(4) == [
            "valid_lft", "200", "preferred_lft", "0",
        ])
        #expect(IPCommands.addAddress(address, interface: "eth1", elapsedSeconds: 600) == nil)
    }

    @Test("merging the baseline adds what only the baseline has, without duplicates")
    func merging() throws {
        let healthy = try Fixture.healthy()
        var flushed = healthy
        flushed.addresses = []
        flushed.routes = []
        let merged = flushed.merging(healthy)
        #expect(merged.addresses == healthy.addresses && merged.routes == healthy.routes)
        #expect(healthy.merging(healthy) == healthy)
        #expect(merged.takenAtMillis == flushed.takenAtMillis)
    }
}
