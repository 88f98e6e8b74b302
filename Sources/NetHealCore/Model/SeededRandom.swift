/// SplitMix64: a tiny, fast, seeded generator. Every random choice in the core and the simulator
/// draws from one of these, so a seed reproduces a run exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A new generator whose seed is derived from this one (for sub-streams: per node, per link).
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }
}
