import Foundation

/// An injected fault, for lifting it later.
public struct LabFaultHandle: Hashable, Sendable {
    /// Unique within the fleet.
    public var id: Int
    /// What was injected.
    public var fault: LabFault
    /// When.
    public var injectedAt: Date
    /// The nft table name used in every affected namespace.
    public var table: String { "nhlab_fault\(id)" }
}

extension LabFleet {
    /// Injects `fault` now and records it in the timeline.
    @discardableResult
    public func inject(_ fault: LabFault) throws -> LabFaultHandle {
        lock.lock()
        let id = nextFaultID
        nextFaultID += 1
        lock.unlock()
        let handle = LabFaultHandle(id: id, fault: fault, injectedAt: Date())
        if case .wedge(let name, .flush) = fault {
            let node = try topology.node(name)
            try runner.run(["ip", "-n", node.namespace, "addr", "flush", "dev", node.interface])
        }
        for (namespace, script) in try fault.nftTables(in: topology, table: handle.table) {
            try runner.run(in: namespace, ["nft", "-f", "-"], stdin: script)
        }
        lock.lock()
        activeFaults[id] = fault
        lock.unlock()
        var injected = handle
        injected.injectedAt = Date()
        timeline.record(.fault, Self.faultNode(fault), "inject: \(fault)")
        return injected
    }

    /// Lifts a fault (deletes its nft tables). A flushed address is not put back: only a heal repairs it.
    public func lift(_ handle: LabFaultHandle) {
        lock.lock()
        let active = activeFaults.removeValue(forKey: handle.id) != nil
        lock.unlock()
        guard active else { return }
        deleteTables(of: handle)
        timeline.record(.fault, Self.faultNode(handle.fault), "lift: \(handle.fault)")
    }

    func deleteTables(of handle: LabFaultHandle) {
        guard let tables = try? handle.fault.nftTables(in: topology, table: handle.table) else { return }
        for (namespace, _) in tables {
            _ = try? runner.runAllowingFailure([
                "ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", handle.table,
            ])
        }
    }

    /// The link watcher saw `node`'s interface go down and up: a NIC "reset". Lifts the node's
    /// drop-wedges, as a real NIC that needed a reset would work again.
    func linkCycled(_ node: LabNode) {
        lock.lock()
        let lifted = activeFaults.filter { _, fault in
            if case .wedge(node.name, .drop) = fault { return true }
            return false
        }
        for id in lifted.keys { activeFaults[id] = nil }
        lock.unlock()
        for (id, fault) in lifted.sorted(by: { $0.key < $1.key }) {
            timeline.record(.fault, node.name, "link cycled: NIC reset, injector lifts \(fault)")
            deleteTables(of: LabFaultHandle(id: id, fault: fault, injectedAt: Date()))
        }
    }

    static func faultNode(_ fault: LabFault) -> String? {
        if case .wedge(let node, _) = fault { return node }
        return nil
    }
}

extension LabFleet {
    /// Runs `handler` the moment `node`'s interface next goes down (on the link watcher's thread).
    public func onNextLinkDown(_ node: LabNode, _ handler: @escaping @Sendable (LabNode) -> Void) throws {
        lock.lock()
        let watcher = watchers[node.name]
        lock.unlock()
        guard let watcher else { throw LabError("no link watcher for \(node.name)") }
        watcher.onNextDown(handler)
    }

    /// Makes `ifdown` on `node` take `seconds` longer after the link went down (an `if-post-down.d`
    /// hook, like a slow DHCP release): widens the window between down and up for kill-mid-heal.
    public func slowIfdown(_ node: LabNode, seconds: Int) throws {
        let path = files.etcNetns(node) + "/network/if-post-down.d/nhlab-slow"
        try "#!/bin/sh\n# netheal lab: a slow interface release (kill-mid-heal scenario)\nsleep \(seconds)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
}
