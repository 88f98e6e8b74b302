import Foundation
import NetHealConfig

/// The file system side of `fleet` (the logic is in NetHealConfig's `Bootstrap*`).
enum FleetFiles {
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigCommandError("\(path): cannot read the file (missing, unreadable or not UTF-8)")
        }
        return text
    }

    static func createEmptyDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard isDirectory.boolValue, entries.isEmpty else {
                throw ConfigCommandError(
                    "\(path): already exists and is not an empty directory — choose a new --out (nothing is overwritten)"
                )
            }
            return
        }
        try createDirectory(path)
    }

    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw ConfigCommandError("\(path): cannot create the directory: \(error.localizedDescription)")
        }
    }

    /// Writes atomically (temporary file, then rename), mode 0644: these files hold no secret.
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        } catch {
            throw ConfigCommandError("\(path): cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads the fleet directory.
    static func list(_ directory: String) -> FleetDirectoryListing {
        let manager = FileManager.default
        let dir = FleetDirectoryListing(path: directory, clusterFile: nil, nodes: []).path
        var nodes: [FleetDirectoryListing.NodeDirectory] = []
        for entry in (try? manager.contentsOfDirectory(atPath: dir)) ?? [] where !entry.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: "\(dir)/\(entry)", isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            nodes.append(
                .init(
                    name: entry,
                    hasNodeFile: manager.fileExists(atPath: "\(dir)/\(entry)/\(BootstrapFleet.nodeFileName)"),
                    clusterCopy: manager.contents(atPath: "\(dir)/\(entry)/\(BootstrapFleet.clusterFileName)").map {
                        [UInt8]($0)
                    }))
        }
        return FleetDirectoryListing(
            path: dir,
            clusterFile: manager.contents(atPath: "\(dir)/\(BootstrapFleet.clusterFileName)").map { [UInt8]($0) },
            nodes: nodes)
    }

    /// Refuses (changing nothing) when a node directory's copy of the cluster file differs from the
    /// master: an update would overwrite it silently.
    static func requireAgreeingCopies(_ listing: FleetDirectoryListing) throws {
        let diverging = BootstrapLayout.divergingCopies(listing)
        guard diverging.isEmpty else {
            throw ConfigCommandError(
                "the cluster file copies of " + diverging.map { "`\($0)`" }.joined(separator: ", ")
                    + " differ from \(listing.clusterPath) — nothing changed; see `netheal-cluster fleet check \(listing.path)` and make them agree first"
            )
        }
    }

    /// Fills `keys` into the master cluster file and every node's copy, or changes nothing.
    static func applyKeys(_ keys: [CollectedKey], directory: String, rotate: Bool) throws {
        let listing = list(directory)
        guard let master = listing.clusterFile else {
            throw ConfigCommandError(
                "\(listing.clusterPath): missing or unreadable — is \(directory) a directory made by `netheal-cluster fleet init`?"
            )
        }
        try requireAgreeingCopies(listing)
        let result: (bytes: [UInt8], changes: [KeyChange])
        do { result = try BootstrapKeys.fill(master, path: listing.clusterPath, keys: keys, rotate: rotate) } catch {
            throw ConfigCommandError(error.description)
        }
        if result.bytes != master {
            try write(result.bytes, to: listing.clusterPath)
            for node in listing.nodes where node.clusterCopy != nil {
                try write(result.bytes, to: listing.clusterCopyPath(node.name))
            }
        }
        for change in result.changes {
            switch change {
            case .added(let name): print("\(name): key added")
            case .rotated(let name):
                print(
                    "\(name): key replaced (rotation) — deploy the new cluster file to every node, and the new key to \(name)"
                )
            case .unchanged(let name): print("\(name): already has this key")
            }
        }
        let pending = (try? BootstrapKeys.pendingMembers(result.bytes, path: listing.clusterPath)) ?? []
        print(
            pending.isEmpty
                ? "all keys in; run `netheal-cluster fleet check \(directory)`"
                : "\(pending.count) still PENDING: " + pending.joined(separator: ", "))
    }
}
