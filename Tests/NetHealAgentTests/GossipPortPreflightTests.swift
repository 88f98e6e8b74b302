import Foundation
import NIOCore
import Testing

@testable import NetHealAgent

@Suite("Gossip port preflight")
struct GossipPortPreflightTests {
    /// A UDP socket on 127.0.0.1 with a port the kernel chose (no free-port race), and that port.
    private func holder() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
            }
        }
        guard rc == 0 else {
            close(fd)
            throw FixtureError("bind/getsockname failed: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: sin.sin_port)))
    }

    @Test("a port held by another socket is refused with the transport's message; a free one passes")
    func heldPort() throws {
        let held = try holder()
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: held.port)
        #expect(GossipPortPreflight.bindErrno(address) == EADDRINUSE)
        do {
            try GossipPortPreflight.check([address])
            Issue.record("a held port passed the preflight")
        } catch {
            let message = error.description
            #expect(message.contains("cannot bind gossip socket"))
            #expect(message.contains("127.0.0.1:\(held.port)"))
            #expect(message.contains("in use"))
            #expect(message.contains("ss -ulpn"))
        }
        close(held.fd)
        #expect(GossipPortPreflight.bindErrno(address) == 0)
        try GossipPortPreflight.check([address])
    }

    @Test("an address not configured on this host is left to the real bind (it may still come up)")
    func missingAddress() throws {
        let address = try SocketAddress(ipAddress: "198.18.255.253", port: 9)
        #expect(GossipPortPreflight.bindErrno(address) == EADDRNOTAVAIL)
        try GossipPortPreflight.check([address])
    }

    @Test("an unfinished or unreadable heal journal skips the preflight; none or a finished one does not")
    func unfinishedHeal() throws {
        let dir = StateTestDirectory("preflight")
        defer { dir.remove() }
        #expect(!GossipPortPreflight.unfinishedHealRecorded(stateDirectory: dir.path))
        #expect(!FileManager.default.fileExists(atPath: dir.path), "the check created the state directory")
        let store = try StateStore(directory: dir.path)
        try store.save(HealJournal(), to: .healJournal)
        #expect(!GossipPortPreflight.unfinishedHealRecorded(stateDirectory: dir.path + "/"))
        var journal = HealJournal()
        journal.append(HealJournalEntry(intent: HealIntent(
            id: "7-1", interface: "eth0", action: HealActionSpec(), reason: "test",
            target: InterfaceSnapshot(interface: "eth0", adminUp: true, operState: "UP", addresses: [], routes: [], takenAtMillis: 0),
            startedAtMillis: 0, incarnation: 7)))
        try store.save(journal, to: .healJournal)
        #expect(GossipPortPreflight.unfinishedHealRecorded(stateDirectory: dir.path))
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir.path + "/heal-journal.json"))
        #expect(GossipPortPreflight.unfinishedHealRecorded(stateDirectory: dir.path))
        #expect(dir.files().contains("heal-journal.json"), "the check moved the journal")
    }
}
