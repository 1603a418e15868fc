/// The 4-tuple in a canonical order, so both directions of a connection find the same entry.
struct FlowKey: Hashable {
    var lower: Endpoint
    var upper: Endpoint

    @inline(__always)
    init(_ a: Endpoint, _ b: Endpoint) {
        if (a.address.high, a.address.low, a.port) < (b.address.high, b.address.low, b.port) {
            (lower, upper) = (a, b)
        } else {
            (lower, upper) = (b, a)
        }
    }
}

extension FlowKey {
    /// A cheap, well-mixed hash of the 4-tuple (splitmix64's finaliser). Not for untrusted
    /// adversaries' hash flooding; a capture is bounded by the eviction limit anyway.
    var hashValueForTable: Int {
        var x = lower.address.low &* 0x9E37_79B9_7F4A_7C15
        x ^= lower.address.high &+ (UInt64(lower.port) << 48)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x ^= upper.address.low &+ (UInt64(upper.port) << 32) ^ upper.address.high
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Int(truncatingIfNeeded: x)
    }
}
