@preconcurrency import Glibc

/// A moment on CLOCK_REALTIME, in whole microseconds since the Unix epoch.
///
/// One type for every stamp on the timeline: a `--trace` line, a captured packet (libpcap stamps
/// packets with this same clock), a kernel event converted to it. Integers, not Doubles, so that
/// sorting and printing never round: `1795642942.605030` reads back as exactly what was written.
public struct EpochTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01 00:00:00 UTC (negative before it).
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(seconds: Int64, microseconds fraction: Int64) {
        self.microseconds = seconds &* 1_000_000 &+ fraction
    }

    /// Whole seconds, rounded down (so a time before the epoch still has a fraction in 0..<1 s).
    public var seconds: Int64 {
        microseconds >= 0 ? microseconds / 1_000_000 : -((-microseconds + 999_999) / 1_000_000)
    }

    /// The fraction of the second, 0...999_999 µs.
    public var fraction: Int64 { microseconds - seconds * 1_000_000 }

    /// Seconds as a Double, for arithmetic that tolerates rounding (durations, rates).
    public var value: Double { Double(microseconds) / 1e6 }

    /// `1795642942.605030`: the JSON form of EVENTS.md, six decimals, never exponent notation.
    public var description: String {
        let magnitude = microseconds.magnitude
        return (microseconds < 0 ? "-" : "") + String(magnitude / 1_000_000) + "."
            + Clock.zeroPadded(Int64(magnitude % 1_000_000), width: 6)
    }

    /// Parses the JSON form back (`1795642942.605030`, `1795642942.6`, `1795642942`), without going
    /// through a Double. More than six decimals are cut to microseconds. Nil for anything else.
    public init?(parsing text: Substring) {
        var rest = text
        var negative = false
        if rest.first == "-" { negative = true; rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCIIDigit),
              let seconds = Int64(whole) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
            let six = String(digits.prefix(6))
            fraction = Int64(six + String(repeating: "0", count: 6 - six.count)) ?? 0
        }
        let value = seconds * 1_000_000 + fraction
        self.microseconds = negative ? -value : value
    }

    /// `self` moved by a duration in seconds (rounded to the microsecond).
    public func adding(seconds duration: Double) -> EpochTime {
        EpochTime(microseconds: microseconds &+ Int64((duration * 1e6).rounded()))
    }

    public static func < (a: EpochTime, b: EpochTime) -> Bool { a.microseconds < b.microseconds }
}

/// The project's only clock readers and its only time-of-day formatter.
///
/// Two clocks, for two jobs:
/// - CLOCK_REALTIME says *when*: it is what libpcap stamps packets with, so a system call stamped
///   with it lands on the same timeline as the SYN it caused. It can jump (NTP, `date -s`).
/// - CLOCK_MONOTONIC says *how long*: it never jumps, so durations (`<0.000312>`, timeouts,
///   latencies) are measured with it.
public enum Clock {
    /// clock_gettime(2) on CLOCK_REALTIME.
    public static func now() -> EpochTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return EpochTime(seconds: Int64(time.tv_sec), microseconds: Int64(time.tv_nsec / 1000))
    }

    /// clock_gettime(2) on CLOCK_MONOTONIC, in seconds: for durations and deadlines only.
    public static func monotonic() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Local time of day with microseconds, `HH:MM:SS.uuuuuu`, as tcpdump and `strace -tt` print it.
    public static func timeOfDay(_ time: EpochTime) -> String {
        timeOfDayPrefix(seconds: time.seconds) + zeroPadded(time.fraction, width: 6)
    }

    /// `HH:MM:SS.` in local time for whole epoch seconds; callers add the fraction at the
    /// precision they hold (six digits, or nine for nanosecond capture files).
    public static func timeOfDayPrefix(seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        return zeroPadded(Int64(parts.tm_hour), width: 2) + ":" + zeroPadded(Int64(parts.tm_min), width: 2)
            + ":" + zeroPadded(Int64(parts.tm_sec), width: 2) + "."
    }

    /// A duration in strace's `-T` form: `<0.000312>`.
    public static func spanSuffix(_ seconds: Double) -> String {
        let micros = Int64((max(0, seconds) * 1e6).rounded())
        return "<" + String(micros / 1_000_000) + "." + zeroPadded(micros % 1_000_000, width: 6) + ">"
    }

    static func zeroPadded(_ value: Int64, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
