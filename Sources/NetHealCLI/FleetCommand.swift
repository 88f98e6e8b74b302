import ArgumentParser
import Foundation
import NetHealConfig

/// `netheal-cluster fleet`: bootstrap a fleet's configuration from a plain node list.
public struct FleetCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Generate and check a fleet's configuration directory (node files, cluster file, public keys).",
        discussion: """
            The documented flow (docs/deployment.md):
              1. fleet init NODES.txt --cluster-id ID --out DIR     (operator)
              2. keygen --out /etc/netheal/node.key   (each node; the key stays)
              3. fleet add-key DIR NAME ed25519:…  or  fleet assemble DIR --keys F
              4. fleet check DIR
              5. copy DIR/NAME/ to /etc/netheal/ on node NAME
            """,
        subcommands: [
            FleetInitCommand.self, FleetAddKeyCommand.self, FleetAssembleCommand.self, FleetCheckCommand.self,
            FleetAddNodeCommand.self,
        ]
    )

    public init() {}
}

/// `fleet init NODES.txt --cluster-id ID --out DIR`.
public struct FleetInitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a node directory per node and the cluster file (public keys PENDING) from a node list.",
        discussion: """
            NODES.txt has one node per line: `NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN]`, e.g. `n1 198.18.1.11,198.18.2.11 rack-a`; `#` starts a comment. An address without a port gets --port. Member order (the wire index) is the list's order.

            Writes DIR/cluster.yaml and, per node, DIR/NAME/node.yaml and DIR/NAME/cluster.yaml (a copy): DIR/NAME/ is what goes to /etc/netheal/ on node NAME. DIR must not exist or must be empty. Node files start in `mode: dry-run` (the shadow week).
            """
    )

    /// The node list.
    @Argument(
        help: ArgumentHelp(
            "The node list (NAME DATA_ADDR[,MGMT_ADDR] [FAILURE_DOMAIN] per line).", valueName: "nodes-file"))
    public var nodesFile: String

    /// The output directory.
    @Option(name: .long, help: ArgumentHelp("Directory to create (must not exist, or be empty).", valueName: "dir"))
    public var out: String

    /// The cluster id.
    @Option(name: .long, help: ArgumentHelp("The cluster id, e.g. prod-eu1 (1 to 64 bytes).", valueName: "id"))
    public var clusterID: String

    /// Defaults written into every node file.
    @OptionGroup public var defaults: FleetNodeOptions

    public init() {}

    public func run() throws {
        let settings = try defaults.bootstrapDefaults(clusterID: clusterID)
        let text = try FleetFiles.readText(nodesFile)
        let fleet: BootstrapFleet
        do {
            let nodes = try BootstrapNodeList.parse(text, path: nodesFile, defaultPort: defaults.port)
            fleet = try BootstrapFleet.generate(
                nodes: nodes, defaults: settings, source: (nodesFile as NSString).lastPathComponent)
        } catch {
            throw ConfigCommandError(error.description)
        }
        try FleetFiles.createEmptyDirectory(out)
        try FleetFiles.write(Array(fleet.clusterFile.utf8), to: "\(out)/\(BootstrapFleet.clusterFileName)")
        for node in fleet.nodeFiles {
            try FleetFiles.createDirectory("\(out)/\(node.name)")
            try FleetFiles.write(Array(node.text.utf8), to: "\(out)/\(node.name)/\(BootstrapFleet.nodeFileName)")
            try FleetFiles.write(
                Array(fleet.clusterFile.utf8), to: "\(out)/\(node.name)/\(BootstrapFleet.clusterFileName)")
        }
        print(
            "wrote \(out)/\(BootstrapFleet.clusterFileName) and \(fleet.nodeFiles.count) node director\(fleet.nodeFiles.count == 1 ? "y" : "ies"); \(fleet.nodeFiles.count) public key\(fleet.nodeFiles.count == 1 ? "" : "s") PENDING"
        )
        print(
            "next: on each node run `netheal-cluster keygen --out /etc/netheal/node.key`, then `netheal-cluster fleet add-key \(out) NAME ed25519:…` here"
        )
    }
}

/// The node file defaults `fleet init` and `fleet add-node` take.
public struct FleetNodeOptions: ParsableArguments {
    /// Managed interface of every node.
    @Option(name: .long, help: ArgumentHelp("Managed interface of every node.", valueName: "name"))
    public var interface = "eth0"

    /// Probe anchors after `gateway`.
    @Option(
        name: .customLong("anchor"),
        help: ArgumentHelp(
            "A probe target after `gateway` (repeatable; default `icmp 1.1.1.1` and `icmp 9.9.9.9`), e.g. --anchor 'tcp 198.18.0.53:53'.",
            valueName: "target"))
    public var anchors: [String] = []

    /// Heal action kind.
    @Option(name: .long, help: ArgumentHelp("Heal action: ifupdown, ip-link, networkctl or nmcli.", valueName: "kind"))
    public var healAction = "ifupdown"

    /// Node mode.
    @Option(name: .long, help: ArgumentHelp("Node mode: dry-run (shadow week, default) or heal.", valueName: "mode"))
    public var mode = "dry-run"

    /// Default gossip port.
    @Option(name: .long, help: ArgumentHelp("Gossip port for addresses written without one.", valueName: "port"))
    public var port: UInt16 = BootstrapNodeList.defaultPort

    public init() {}

    /// The options as `BootstrapDefaults`, or a validation error naming the option.
    func bootstrapDefaults(clusterID: String) throws -> BootstrapDefaults {
        guard let kind = NodeSettings.HealAction.Kind(rawValue: healAction) else {
            throw ValidationError("--heal-action: `\(healAction)` is not one of ifupdown, ip-link, networkctl, nmcli")
        }
        guard let nodeMode = NodeMode(rawValue: mode) else {
            throw ValidationError("--mode: `\(mode)` is not dry-run or heal")
        }
        var targets = BootstrapDefaults.defaultAnchors
        if !anchors.isEmpty {
            targets = []
            for text in anchors {
                switch NodeSettings.ProbeTarget.parse(text) {
                case .success(let target): targets.append(target)
                case .failure(let error): throw ValidationError("--anchor `\(text)`: \(error)")
                }
            }
        }
        return BootstrapDefaults(
            clusterID: clusterID, interface: interface, anchors: targets, healAction: kind, mode: nodeMode)
    }
}

/// `fleet add-node DIR NAME ADDRESSES [FAILURE_DOMAIN]`.
public struct FleetAddNodeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add-node",
        abstract:
            "Append a member (public key PENDING) to every copy of the cluster file and write its node directory.",
        discussion:
            "The member goes to the end of `members:` (the next wire index). Refuses when a node directory's copy of the cluster file differs from DIR/cluster.yaml, or DIR/NAME exists. Then: keygen on the new node, fleet add-key, fleet check, and roll the cluster file out to every node (docs/deployment.md)."
    )

    @Argument(help: ArgumentHelp("The fleet directory.", valueName: "dir")) public var directory: String
    @Argument(help: ArgumentHelp("The new member's name.", valueName: "name")) public var name: String
    @Argument(help: ArgumentHelp("Its addresses: DATA_ADDR[,MGMT_ADDR].", valueName: "addresses")) public var addresses:
        String
    @Argument(help: ArgumentHelp("Its failure domain.", valueName: "failure-domain")) public var failureDomain: String?
    /// Defaults of the new node file.
    @OptionGroup public var defaults: FleetNodeOptions

    public init() {}

    public func run() throws {
        let listing = FleetFiles.list(directory)
        guard let master = listing.clusterFile else {
            throw ConfigCommandError(
                "\(listing.clusterPath): missing or unreadable — is \(directory) a directory made by `netheal-cluster fleet init`?"
            )
        }
        try FleetFiles.requireAgreeingCopies(listing)
        let nodeDirectory = "\(listing.path)/\(name)"
        guard !FileManager.default.fileExists(atPath: nodeDirectory) else {
            throw ConfigCommandError("\(nodeDirectory) already exists — nothing changed")
        }
        let updated: [UInt8]
        let nodeFile: String
        do {
            let line = ([name, addresses] + (failureDomain.map { [$0] } ?? [])).joined(separator: " ")
            let node = try BootstrapNodeList.parse(line, path: "command line", defaultPort: defaults.port)[0]
            updated = try BootstrapMembers.append(node, to: master, path: listing.clusterPath)
            let cluster = try ConfigLoader.parseCluster(
                try BootstrapKeys.standInForPending(updated, path: listing.clusterPath), path: listing.clusterPath)
            nodeFile = try BootstrapFleet.nodeFile(
                name: name, defaults: try defaults.bootstrapDefaults(clusterID: cluster.clusterID), cluster: updated)
        } catch let error as ConfigProblems {
            throw ConfigCommandError(error.description)
        }
        try FleetFiles.write(updated, to: listing.clusterPath)
        for node in listing.nodes where node.clusterCopy != nil {
            try FleetFiles.write(updated, to: listing.clusterCopyPath(node.name))
        }
        try FleetFiles.createDirectory(nodeDirectory)
        try FleetFiles.write(Array(nodeFile.utf8), to: listing.nodeFilePath(name))
        try FleetFiles.write(updated, to: listing.clusterCopyPath(name))
        print("added member \(name) at the end of \(listing.clusterPath) (key PENDING) and wrote \(nodeDirectory)/")
        print(
            "next: keygen on \(name), `netheal-cluster fleet add-key \(directory) \(name) ed25519:…`, `fleet check`, then the new cluster.yaml to every node"
        )
    }
}

/// `fleet add-key DIR NAME KEY`.
public struct FleetAddKeyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add-key",
        abstract:
            "Fill in one member's public key (as printed by keygen on that node) in every copy of the cluster file.",
        discussion:
            "Refuses when a node directory's copy of the cluster file differs from DIR/cluster.yaml, and replaces an existing different key only with --rotate."
    )

    @Argument(help: ArgumentHelp("The fleet directory.", valueName: "dir")) public var directory: String
    @Argument(help: ArgumentHelp("The member name.", valueName: "name")) public var name: String
    @Argument(help: ArgumentHelp("The public key, ed25519:<64 hex digits>.", valueName: "key")) public var key: String
    /// Allow replacing an existing key.
    @Flag(name: .long, help: "Replace an existing different key (key rotation).") public var rotate = false

    public init() {}

    public func run() throws {
        try FleetFiles.applyKeys([CollectedKey(name: name, key: key)], directory: directory, rotate: rotate)
    }
}

/// `fleet assemble DIR --keys KEYS.txt`.
public struct FleetAssembleCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "assemble",
        abstract:
            "Fill in the public keys listed in a keys file (`NAME ed25519:…` per line) in every copy of the cluster file.",
        discussion: "All keys apply or none does."
    )

    @Argument(help: ArgumentHelp("The fleet directory.", valueName: "dir")) public var directory: String
    @Option(name: .long, help: ArgumentHelp("The keys file: `NAME ed25519:…` per line.", valueName: "file")) public
        var keys: String
    /// Allow replacing existing keys.
    @Flag(name: .long, help: "Replace existing different keys (key rotation).") public var rotate = false

    public init() {}

    public func run() throws {
        let collected: [CollectedKey]
        do { collected = try BootstrapKeys.parseKeysFile(try FleetFiles.readText(keys), path: keys) } catch let error
            as ConfigProblems
        {
            throw ConfigCommandError(error.description)
        }
        try FleetFiles.applyKeys(collected, directory: directory, rotate: rotate)
    }
}

/// `fleet check DIR`.
public struct FleetCheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Check a fleet directory: layout, pending keys, then `config check` over the cluster file and every node file.",
        discussion: """
            `config check` runs over DIR/cluster.yaml and every DIR/NAME/node.yaml together, so a node directory whose copy of the cluster file differs from the master is reported with both digests. Secret key files are not looked at (they are on the nodes; run `config check --require-keys /etc/netheal/node.yaml` there).

            Exit status: 0 when the directory is ready to deploy, 1 otherwise.
            """
    )

    @Argument(help: ArgumentHelp("The fleet directory.", valueName: "dir")) public var directory: String

    public init() {}

    public func run() throws {
        let listing = FleetFiles.list(directory)
        let (problems, pending) = BootstrapLayout.check(listing)
        // Problems inside a readable master file are `config check`'s to report (once, below).
        for problem in problems where problem.file != listing.clusterPath || listing.clusterFile == nil {
            print(problem)
        }
        if !pending.isEmpty {
            print(
                "\(pending.count) public key\(pending.count == 1 ? "" : "s") PENDING: "
                    + pending.joined(separator: ", ")
                    + " — run `netheal-cluster keygen --out /etc/netheal/node.key` on each, then `netheal-cluster fleet add-key \(directory) NAME ed25519:…`"
            )
            if let master = listing.clusterFile {
                do {
                    _ = try ConfigLoader.parseCluster(
                        try BootstrapKeys.standInForPending(master, path: listing.clusterPath),
                        path: listing.clusterPath)
                } catch {
                    for problem in error.problems { print(problem) }
                }
            }
            throw ExitCode.failure
        }
        guard problems.isEmpty || listing.clusterFile != nil else { throw ExitCode.failure }
        let nodeFiles = listing.nodes.filter(\.hasNodeFile).map { listing.nodeFilePath($0.name) }
        let report = ConfigCheck.run(paths: [listing.clusterPath] + nodeFiles, requireKeys: false, checkKeys: false)
        print(report.text(), terminator: "")
        if !report.ok || !problems.isEmpty { throw ExitCode.failure }
    }
}
