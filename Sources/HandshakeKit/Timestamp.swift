/// When a packet was captured: seconds since the epoch plus a fraction in micro- or nanoseconds,
/// exactly as the capture file stores it (no floating-point rounding).
public struct Timestamp: Sendable, Comparable {
    public var seconds: Int
    /// Microseconds (0..<1_000_000) or nanoseconds (0..<1_000_000_000).
    public var fraction: Int
    public var isNanosecond: Bool

    /// A fraction of a second or more (a file can hold any number there) carries into `seconds`,
    /// as libpcap's own tools do, so printing it never shows more digits than the precision.
    public init(seconds: Int, fraction: Int, isNanosecond: Bool) {
        let unit = isNanosecond ? 1_000_000_000 : 1_000_000
        self.seconds = seconds &+ fraction / unit
        self.fraction = fraction % unit
        self.isNanosecond = isNanosecond
        if self.fraction < 0 {
            self.fraction += unit
            self.seconds &-= 1
        }
    }

    /// Seconds as a Double, for durations and round-trip times.
    public var value: Double {
        Double(seconds) + Double(fraction) / (isNanosecond ? 1e9 : 1e6)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.value < b.value }
}
