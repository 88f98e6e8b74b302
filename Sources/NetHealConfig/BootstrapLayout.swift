/// What a fleet directory holds, as read from disk by the CLI (`fleet check`, `fleet add-key`).
public struct FleetDirectoryListing: Hashable, Sendable {
    /// One node directory `DIR/NAME/`.
    public struct NodeDirectory: Hashable, Sendable {
        /// The directory name (the member name by convention).
        public var name: String
        /// True when `DIR/NAME/node.yaml` exists.
        public var hasNodeFile: Bool
        /// The bytes of `DIR/NAME/cluster.yaml`, nil when absent or unreadable.
        public var clusterCopy: [UInt8]?

        public init(name: String, hasNodeFile: Bool, clusterCopy: [UInt8]?) {
            self.name = name
            self.hasNodeFile = hasNodeFile
            self.clusterCopy = clusterCopy
        }
    }

    /// The directory, as given without trailing `/` (used in problems).
    public var path: String
    /// The bytes of the master `DIR/cluster.yaml`, nil when absent or unreadable.
    public var clusterFile: [UInt8]?
    /// The subdirectories of DIR, sorted by name.
    public var nodes: [NodeDirectory]

    public init(path: String, clusterFile: [UInt8]?, nodes: [NodeDirectory]) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.path = String(trimmed)
        self.clusterFile = clusterFile
        self.nodes = nodes.sorted { $0.name < $1.name }
    }

    /// `DIR/cluster.yaml`.
    public var clusterPath: String { join(path, BootstrapFleet.clusterFileName) }
    /// `DIR/NAME/node.yaml`.
    public func nodeFilePath(_ name: String) -> String { join(path, name, BootstrapFleet.nodeFileName) }
    /// `DIR/NAME/cluster.yaml`.
    public func clusterCopyPath(_ name: String) -> String { join(path, name, BootstrapFleet.clusterFileName) }

    private func join(_ parts: String...) -> String {
        parts.dropFirst().reduce(parts[0] == "/" ? "" : parts[0]) { $0 + "/" + $1 }
    }
}

/// Checks of a fleet directory's shape: every member has a node directory with a node file and a
/// copy of the cluster file, and nothing else claims to be a node. (Content is `config check`'s job.)
public enum BootstrapLayout {
    /// The layout problems of `listing`, and the members whose key is still `PENDING`.
    public static func check(_ listing: FleetDirectoryListing) -> (problems: [ConfigProblem], pending: [String]) {
        guard let master = listing.clusterFile else {
            return (
                [
                    ConfigProblem(
                        file: listing.clusterPath, line: nil, column: nil, field: "",
                        message:
                            "missing or unreadable — is \(listing.path) a directory made by `netheal-cluster fleet init`?"
                    )
                ], []
            )
        }
        let slots: [BootstrapKeys.Slot]
        do {
            slots = try BootstrapKeys.slots(master, path: listing.clusterPath)
        } catch {
            return (error.problems, [])
        }
        var problems: [ConfigProblem] = []
        let members = slots.map(\.name)
        let directories = Set(listing.nodes.map(\.name))
        for member in members where !directories.contains(member) {
            problems.append(
                ConfigProblem(
                    file: listing.path, line: nil, column: nil, field: member,
                    message:
                        "member `\(member)` has no node directory \(listing.path)/\(member)/ — create it with its node.yaml and a copy of cluster.yaml (docs/deployment.md, adding a member)"
                ))
        }
        for node in listing.nodes {
            guard members.contains(node.name) else {
                problems.append(
                    ConfigProblem(
                        file: "\(listing.path)/\(node.name)", line: nil, column: nil, field: "",
                        message:
                            "`\(node.name)` is not a member of \(listing.clusterPath) — remove the directory, or add the member to the cluster file"
                    ))
                continue
            }
            if !node.hasNodeFile {
                problems.append(
                    ConfigProblem(
                        file: listing.nodeFilePath(node.name), line: nil, column: nil, field: "",
                        message: "missing — every node directory needs its node file"))
            }
            if node.clusterCopy == nil {
                problems.append(
                    ConfigProblem(
                        file: listing.clusterCopyPath(node.name), line: nil, column: nil, field: "",
                        message: "missing — copy \(listing.clusterPath) there"))
            }
        }
        return (problems, slots.filter { $0.value == BootstrapFleet.pendingKey }.map(\.name))
    }

    /// The node directories whose copy of the cluster file differs from the master (they would be
    /// overwritten by a key update, so the update is refused until they agree).
    public static func divergingCopies(_ listing: FleetDirectoryListing) -> [String] {
        listing.nodes.filter { $0.clusterCopy != nil && $0.clusterCopy != listing.clusterFile }.map(\.name)
    }
}
