import Foundation

/// Chooses, stretch by stretch, whether windows run on two threads or serially, by timing both: on a
/// shared machine the second core may be busy, and then the serial path is faster. Either path gives
/// the same results, so the choice changes only speed. A trial alternates the two ways every 256
/// windows, 16 times (so both see the same load and the same phase of the scenario), then runs the
/// faster way for 32,768 windows; two threads must be at least 5 % faster to be chosen.
struct EngineGovernor {
    /// `NETHEAL_SIM_ENGINE_LOG=1`: each timing goes to standard error (for tuning; no effect on results).
    static let verbose = ProcessInfo.processInfo.environment["NETHEAL_SIM_ENGINE_LOG"] == "1"
    static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    /// `NETHEAL_SIM_ENGINE_ADAPTIVE=0`: never time the serial path (every window of enough events on two threads).
    static let enabled = ProcessInfo.processInfo.environment["NETHEAL_SIM_ENGINE_ADAPTIVE"] != "0"
    static let trialWindows = 256
    static let trialRounds = 16
    static let runWindows = 32_768

    /// Windows currently run on two threads.
    private(set) var parallel = true
    private var trial = 0
    private var windowsLeft = trialWindows
    private var events = 0
    private var start = ContinuousClock.now
    /// Nanoseconds and events so far in this trial: [serial, two threads].
    private var spent = [0.0, 0.0]
    private var counted = [0, 0]

    mutating func windowDone(events count: Int) {
        events += count
        windowsLeft -= 1
        guard windowsLeft <= 0 else { return }
        let now = ContinuousClock.now
        if trial < Self.trialRounds {
            let elapsed = now - start
            let k = parallel ? 1 : 0
            spent[k] += Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            counted[k] += events
            trial += 1
        } else {
            trial = 0
        }
        if trial < Self.trialRounds {
            // A new trial (trial 0) or its next stretch: the other way.
            parallel = !parallel || !Self.enabled
            windowsLeft = Self.trialWindows
        } else {
            let serialCost = spent[0] / Double(max(1, counted[0]))
            let parallelCost = spent[1] / Double(max(1, counted[1]))
            parallel = parallelCost < 0.95 * serialCost || !Self.enabled
            if Self.verbose {
                Self.log("governor: two threads \(Int(parallelCost)) ns/event, serial \(Int(serialCost)) ns/event")
            }
            spent = [0, 0]
            counted = [0, 0]
            windowsLeft = Self.runWindows
        }
        events = 0
        start = now
    }
}
