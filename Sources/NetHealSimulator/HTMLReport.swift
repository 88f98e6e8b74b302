import NetHealCore

/// `simulate --report FILE.html`: one inline-SVG timeline per run — a row per node, colour = decision
/// state, fault bars above, heal markers (green = true heal, red = false heal).
public enum HTMLReport {
    static func colour(_ s: DecisionState) -> String {
        switch s {
        case .starting: "#d0d0d0"
        case .healthy: "#9fd89f"
        case .suspect: "#f3e27a"
        case .hold: "#7fb2e5"
        case .waiting: "#f5b041"
        case .healing: "#e67e22"
        case .backoff: "#b38cd9"
        case .dryRun: "#f1948a"
        case .disabled: "#888888"
        }
    }

    static func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "&": o += "&amp;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }

    /// The whole HTML document.
    public static func render(_ results: [SimulationResult]) -> String {
        var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>netheal-cluster simulation</title>
            <style>body{font:13px sans-serif;margin:16px} h2{font-size:15px;margin:18px 0 4px}
            .pass{color:#1a7f37}.fail{color:#c0392b} .legend span{display:inline-block;padding:1px 6px;margin-right:4px}</style>
            </head><body><h1>netheal-cluster simulation</h1><div class="legend">
            """
        for s in DecisionState.allCases { html += "<span style=\"background:\(colour(s))\">\(s)</span>" }
        html += "<span style=\"background:#222;color:#fff\">agent down</span>"
        html += "<span>▲ green: heal of a broken interface; ▲ red: false heal</span></div>\n"
        for r in results { html += section(r) }
        return html + "</body></html>\n"
    }

    static func section(_ r: SimulationResult) -> String {
        let rowH = r.fleetSize > 60 ? 3.0 : (r.fleetSize > 20 ? 8.0 : 16.0)
        let left = 50.0
        let width = 1000.0
        let faultRows = r.faults.count
        let top = 14.0 + Double(faultRows) * 10
        let height = top + Double(r.fleetSize) * rowH + 24
        let total = Double(max(1, r.simulatedNanos))
        func x(_ t: Int64) -> Double { left + Double(t) / total * width }
        let cls = r.passed ? "pass" : "fail"
        var s = "<h2>\(esc(r.scenario)) — policy \(esc(r.policy)) — <span class=\"\(cls)\">"
            + "\(r.passed ? "PASS" : "FAIL")</span> — \(r.trueHeals) true heal(s), \(r.falseHeals) false heal(s), "
            + "seed \(r.seed), signer \(r.signer.rawValue)</h2>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 10))\" height=\"\(Int(height))\">"
        for (k, f) in r.faults.enumerated() {
            let y = 4.0 + Double(k) * 10
            let end = f.until ?? r.simulatedNanos
            s += "<rect x=\"\(x(f.at))\" y=\"\(y)\" width=\"\(max(2, x(end) - x(f.at)))\" height=\"7\" fill=\"#c0392b\""
                + " opacity=\"0.6\"><title>\(esc(f.label))</title></rect>"
            s += "<text x=\"\(x(f.at) + 3)\" y=\"\(y + 7)\" font-size=\"8\">\(esc(f.label))</text>"
        }
        // State rows: walk the changes per node in time order.
        var current = [DecisionState](repeating: .starting, count: r.fleetSize)
        var since = [Int64](repeating: 0, count: r.fleetSize)
        func bar(_ node: Int, _ until: Int64) {
            guard until > since[node] else { return }
            let y = top + Double(node) * rowH
            s += "<rect x=\"\(x(since[node]))\" y=\"\(y)\" width=\"\(max(0.5, x(until) - x(since[node])))\""
                + " height=\"\(rowH - (rowH > 4 ? 1 : 0))\" fill=\"\(colour(current[node]))\"/>"
        }
        for c in r.stateChanges {
            let i = Int(c.node)
            bar(i, c.at)
            current[i] = c.state
            since[i] = c.at
        }
        for i in 0..<r.fleetSize { bar(i, r.simulatedNanos) }
        if rowH >= 8 {
            for i in 0..<r.fleetSize {
                s += "<text x=\"4\" y=\"\(top + Double(i) * rowH + rowH - 4)\" font-size=\"9\">\(Scenario.nodeName(i))</text>"
            }
        }
        for d in r.downtimes {
            let y = top + Double(d.node) * rowH
            let end = d.to ?? r.simulatedNanos
            s += "<rect x=\"\(x(d.from))\" y=\"\(y)\" width=\"\(max(1, x(end) - x(d.from)))\" height=\"\(rowH)\""
                + " fill=\"#222\"><title>\(Scenario.nodeName(d.node)) agent down \(SimDuration.seconds(d.from))"
                + " – \(SimDuration.seconds(end))</title></rect>"
        }
        for h in r.heals {
            let y = top + Double(h.node) * rowH + rowH / 2
            let px = x(h.at)
            s += "<path d=\"M\(px) \(y - 5) L\(px - 4) \(y + 4) L\(px + 4) \(y + 4) Z\" fill=\"\(h.justified ? "#1a7f37" : "#c0392b")\""
                + " stroke=\"#000\" stroke-width=\"0.5\"><title>\(esc(Scenario.nodeName(h.node))) \(h.dryRun ? "would-heal" : "heal") at "
                + "\(SimDuration.seconds(h.at)): \(esc(h.reason))</title></path>"
        }
        let axisY = top + Double(r.fleetSize) * rowH + 12
        let secs = r.simulatedNanos / 1_000_000_000
        let step: Int64 = secs > 1800 ? 600 : (secs > 300 ? 60 : 30)
        var t: Int64 = 0
        while t <= secs {
            s += "<text x=\"\(x(t * 1_000_000_000))\" y=\"\(axisY)\" font-size=\"9\">\(SimDuration.format(.seconds(t)))</text>"
            t += step
        }
        s += "</svg>\n"
        if !r.violations.isEmpty {
            let shown = r.violations.prefix(8).map { "<li class=\"fail\">\(esc($0.description))</li>" }.joined()
            let more = r.violations.count > 8 ? "<li>… \(r.violations.count - 8) more (the checker keeps at most 50)</li>" : ""
            s += "<ul>" + shown + more + "</ul>\n"
        }
        return s
    }
}
