/// A random number generator that gives the same numbers for the same seed, on every machine.
///
/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter stepped by a fixed odd constant and
/// scrambled by two multiply-xorshift rounds. Small, fast, and good enough to decide which packets
/// a lossy link loses. The link keeps one generator per direction and per impairment, so the
/// packets lost from client to server depend only on the seed and on the order of *those*
/// packets, not on how they interleave with the other direction or with jitter draws.
public struct SeededRandom: Sendable {
    private var state: UInt64

    /// A generator for `seed`, told apart from its siblings by `stream` (direction, impairment).
    public init(seed: UInt64, stream: UInt64 = 0) {
        state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in [0, 1), with 53 random bits (a Double's precision).
    public mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// True with probability `percent` / 100. Draws a number only when 0 < percent < 100, so a
    /// rule that never applies does not move the sequence.
    public mutating func chance(percent: Double) -> Bool {
        if percent <= 0 { return false }
        if percent >= 100 { return true }
        return unit() * 100 < percent
    }

    /// A whole number in [-spread, +spread], uniformly (jitter around a delay).
    public mutating func spread(_ spread: Int64) -> Int64 {
        guard spread > 0 else { return 0 }
        let width = UInt64(2 * spread + 1)
        return Int64(next() % width) - spread
    }
}
