import NetHealConfig
import Testing

@Suite("broken node files")
struct BrokenNodeTests {
    let base = Fixtures.node

    @Test func nodeNotAMember() {
        let text = Fixtures.replacing("member: n2", with: "member: n7", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "member", line: 2, mentions: ["`n7` is not a member of cluster `test-fleet`", "`n1`, `n2`, `n3`"])
        let typo = Fixtures.replacing("member: n2", with: "member: nn2", in: base)
        expectProblem(Fixtures.nodeProblems(typo), field: "member", line: 2, mentions: ["did you mean `n2`?"])
    }

    @Test func unknownKeySuggestsTheClosest() {
        let text = Fixtures.replacing("interface: eth0", with: "interface: eth0\nintreface: eth1", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "intreface", line: 5, mentions: ["did you mean `interface`?"])
    }

    @Test(arguments: ["eth0:1", "a/b", "eth 0", "abcdefghijklmnop", ".."])
    func badInterfaceName(name: String) {
        let text = Fixtures.replacing("interface: eth0", with: "interface: \"\(name)\"", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "interface", line: 4, mentions: ["ip link"])
    }

    @Test func relativeStateDirectory() {
        let text = base + "\nstate_dir: var/lib/netheal\n"
        expectProblem(Fixtures.nodeProblems(text), field: "state_dir", line: Fixtures.line(of: "state_dir", in: text), mentions: ["not an absolute path"])
    }

    @Test func commandActionWithoutArgv() {
        let text = Fixtures.replacing("  kind: ip-link", with: "  kind: command", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "heal_action.argv", line: Fixtures.line(of: "kind: command", in: text), mentions: ["missing required key `argv`"])
        let scalar = Fixtures.nodeProblems("cluster_file: cluster.yaml\nmember: n1\ninterface: eth0\nprobe_targets: [gateway]\nheal_action: command\n")
        expectProblem(scalar, field: "heal_action", line: 5, mentions: ["needs `argv`"])
    }

    @Test func commandArgvMustStartWithAnAbsolutePath() {
        let text = Fixtures.replacing("argv: [/usr/local/sbin/heal-net, eth0]", with: "argv: [heal-net, eth0]", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "heal_action.escalation[1].argv[0]", line: Fixtures.line(of: "argv:", in: text), mentions: ["not an absolute path", "without a shell"])
    }

    @Test func metricsListenMustBeLoopback() {
        let text = Fixtures.replacing(#"metrics_listen: "[::1]:9465""#, with: "metrics_listen: 198.18.1.2:9465", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "metrics_listen", line: Fixtures.line(of: "metrics_listen", in: text), mentions: ["not a loopback address", "127.0.0.1"])
    }

    @Test(arguments: [
        ("gatway", "did you mean `gateway`?"),
        ("icmp anchor.example", "not an IP address"),
        ("tcp 198.18.0.1", "missing `:port`"),
        ("gateway 198.18.0.1", "takes no argument"),
        ("icmp 198.18.0.1", "duplicate probe target"),
    ])
    func badProbeTarget(target: String, expected: String) {
        let text = Fixtures.replacing("  - tcp [2001:db8::53]:53", with: "  - \(target)", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "probe_targets[2]", line: 8, mentions: [expected])
    }

    @Test func actionTimeoutMustBeShorterThanTheCoreDeadline() {
        let text = Fixtures.replacing("timeout: 1m30s", with: "timeout: 5m", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "heal_action.escalation[1].timeout", line: Fixtures.line(of: "timeout: 5m", in: text), mentions: ["`command` action may take 5m10s (1 × timeout 5m + verify_timeout 10s)", "heal_action_deadline (2m)"])
        // A defaulted timeout (30 s) is reported at the step that takes it.
        let cluster30 = Fixtures.cluster + "\n  heal_action_deadline: 30s\n"
        let problems = Fixtures.nodeProblems(base, cluster: cluster30)
        #expect(problems.map(\.field) == ["heal_action", "heal_action.escalation[0]", "heal_action.escalation[1].timeout"])
        // Raising the deadline in the cluster file resolves it.
        let cluster = Fixtures.cluster + "\n  heal_action_deadline: 10m\n"
        #expect(throws: Never.self) { try Fixtures.parseNode(text, cluster: cluster) }
    }

    @Test func actionOptionsApplyOnlyToTheirKinds() {
        let text = """
            cluster_file: cluster.yaml
            member: n1
            interface: eth0
            probe_targets: [gateway]
            heal_action:
              kind: ip-link
              cycle: down-up
              extra_arguments: [--force]
              argv: [/bin/true]
              fallback_restore: maybe
            """
        let problems = Fixtures.nodeProblems(text)
        expectProblem(problems, field: "heal_action.cycle", line: 7, mentions: ["only to kinds `networkctl` and `nmcli`"])
        expectProblem(problems, field: "heal_action.extra_arguments", line: 8, mentions: ["only to kinds `ifupdown`, `networkctl` and `nmcli`"])
        expectProblem(problems, field: "heal_action.argv", line: 9, mentions: ["only to kind `command`"])
        expectProblem(problems, field: "heal_action.fallback_restore", line: 10, mentions: ["write true or false"])
        #expect(problems.count == 4)
    }

    @Test func networkctlOptionsAreRead() throws {
        let text = """
            cluster_file: cluster.yaml
            member: n1
            interface: eth0
            probe_targets: [gateway]
            heal_action: {kind: networkctl, cycle: down-up, extra_arguments: [--no-ask-password], verify_timeout: 20s, fallback_restore: false}
            """
        let action = try Fixtures.parseNode(text).node.healAction.primary
        #expect(action == NodeSettings.HealAction(
            kind: .networkctl, extraArguments: ["--no-ask-password"], cycle: .downUp, verifyTimeout: .seconds(20), fallbackRestore: false))
        #expect(action.commandCount == 2 && action.worstCaseDuration == .seconds(80))
    }

    @Test func escalateAfterNeedsEscalationSteps() {
        let text = "cluster_file: cluster.yaml\nmember: n1\ninterface: eth0\nprobe_targets: [gateway]\nheal_action: {kind: ifupdown, escalate_after: 2}\n"
        expectProblem(Fixtures.nodeProblems(text), field: "heal_action.escalate_after", line: 5, mentions: ["no effect without `escalation`"])
    }

    @Test func modeAndLogLevelAreChoices() {
        let text = Fixtures.replacing("mode: dry-run", with: "mode: dryrun\nlog_level: verbose", in: base)
        let problems = Fixtures.nodeProblems(text)
        expectProblem(problems, field: "mode", line: Fixtures.line(of: "mode:", in: text), mentions: ["did you mean `dry-run`?"])
        expectProblem(problems, field: "log_level", line: Fixtures.line(of: "log_level", in: text), mentions: ["`info`"])
    }

    @Test func missingRequiredKeysAreAllListed() {
        let problems = Fixtures.nodeProblems("member: n1\n")
        #expect(problems.map(\.field) == ["cluster_file", "interface", "probe_targets", "heal_action"])
        #expect(problems.allSatisfy { $0.message.contains("missing required key") && $0.line == 1 })
    }

    @Test func unreadableClusterFileIsReportedAtCluster_file() {
        let text = Fixtures.replacing("cluster_file: cluster.yaml", with: "cluster_file: /nowhere/cluster.yaml", in: base)
        expectProblem(Fixtures.nodeProblems(text), field: "cluster_file", line: 1, mentions: ["No such file", "relative paths resolve against the node file's directory"])
    }

    @Test func problemsOfBothFilesAreReportedTogether() {
        let node = Fixtures.replacing("interface: eth0", with: "interface: eth0/1", in: base)
        let cluster = Fixtures.replacing("failure_rounds: 4", with: "failure_rounds: zero", in: Fixtures.cluster)
        let problems = Fixtures.nodeProblems(node, cluster: cluster)
        #expect(problems.map(\.file) == ["/etc/netheal/node.yaml", "/etc/netheal/cluster.yaml"])
        #expect(problems.map(\.field) == ["interface", "protocol.failure_rounds"])
    }
}
