import Testing

@testable import NetHealAgent

@Suite("HealActionSpec")
struct HealActionTests {
    @Test("each kind's commands")
    func commands() {
        let ifupdown = HealActionSpec(kind: .ifupdown, extraArguments: ["--state-dir", "/run/lab"])
        #expect(ifupdown.actionCommands(interface: "eth0") == [
            ["ifdown", "eth0", "--state-dir", "/run/lab"], ["ifup", "eth0", "--state-dir", "/run/lab"],
        ])
        #expect(ifupdown.recoveryCommands(interface: "eth0") == [["ifup", "eth0", "--state-dir", "/run/lab"]])
        #expect(HealActionSpec(kind: .ipLink).actionCommands(interface: "eth0") == [
            ["ip", "link", "set", "dev", "eth0", "down"], ["ip", "link", "set", "dev", "eth0", "up"],
        ])
        #expect(HealActionSpec(kind: .ipLink).recoveryCommands(interface: "eth0").isEmpty)
        #expect(HealActionSpec(kind: .networkctl).actionCommands(interface: "eth0") == [["networkctl", "reconfigure", "eth0"]])
        #expect(HealActionSpec(kind: .networkctl, mode: .downUp).actionCommands(interface: "eth0") == [
            ["networkctl", "down", "eth0"], ["networkctl", "up", "eth0"],
        ])
        #expect(HealActionSpec(kind: .nmcli).actionCommands(interface: "eth0") == [["nmcli", "device", "reapply", "eth0"]])
        #expect(HealActionSpec(kind: .nmcli, mode: .downUp).actionCommands(interface: "eth0") == [
            ["nmcli", "device", "disconnect", "eth0"], ["nmcli", "device", "connect", "eth0"],
        ])
        let command = HealActionSpec(kind: .command, command: ["/usr/local/sbin/nic-reset", "{interface}", "a;b"])
        #expect(command.actionCommands(interface: "eth0") == [["/usr/local/sbin/nic-reset", "eth0", "a;b"]])
    }

    @Test("validation names the field")
    func validation() throws {
        #expect(throws: HealActionError.self) { try HealActionSpec(kind: .command).validate() }
        #expect(throws: HealActionError.self) { try HealActionSpec(kind: .ipLink, command: ["x"]).validate() }
        #expect(throws: HealActionError.self) { try HealActionSpec(kind: .ipLink, extraArguments: ["-x"]).validate() }
        #expect(throws: HealActionError.self) { try HealActionSpec(stepTimeout: .zero).validate() }
        do {
            try HealActionSpec(kind: .command).validate()
        } catch {
            #expect(error.field == "command")
        }
        try HealActionSpec().validate()
        #expect(HealActionKind(rawValue: "ip-link") == .ipLink)
    }
}
