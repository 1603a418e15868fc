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
        Double(monotonicNanoseconds()) / 1e9
    }

    /// clock_gettime(2) on CLOCK_MONOTONIC, in nanoseconds (integers: deadlines compare exactly).
    ///
    /// `coarse` reads CLOCK_MONOTONIC_COARSE instead: the time of the last scheduler tick (a few
    /// milliseconds behind), for bookkeeping done on every request where only whole seconds matter.
    @inline(__always)
    public static func monotonicNanoseconds(coarse: Bool = false) -> UInt64 {
        var time = timespec()
        clock_gettime(coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
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

    /// The epoch time whose local time of day is `HH:MM:SS.uuuuuu` (or nine digits) and which lies
    /// nearest to `reference`: the inverse of `timeOfDay`, for merging stamped lines by epoch.
    ///
    /// A time of day names one moment per day, so a reader that knows roughly when a line was
    /// written (when it read it, less the call's duration) picks the day: this is right across
    /// midnight and daylight-saving changes as long as the reference is within 12 hours. Nil
    /// when the text is not a time of day.
    public static func epoch(timeOfDay text: Substring, near reference: EpochTime) -> EpochTime? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2,
              let hour = Int32(parts[0]), let minute = Int32(parts[1]), hour < 24, minute < 60 else { return nil }
        let secondParts = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard secondParts.count == 2, secondParts[0].count == 2, let second = Int32(secondParts[0]), second < 61,
              [6, 9].contains(secondParts[1].count), secondParts[1].allSatisfy(\.isASCIIDigit),
              let fraction = Int64(secondParts[1].prefix(6)) else { return nil }
        var best: Int64?
        var base = time_t(reference.seconds)
        var day = tm()
        localtime_r(&base, &day)
        for offset: Int32 in -1...1 {
            for dst: Int32 in [0, 1] {
                var wanted = day
                (wanted.tm_mday, wanted.tm_hour, wanted.tm_min, wanted.tm_sec, wanted.tm_isdst) =
                    (day.tm_mday + offset, hour, minute, second, dst)
                var found = mktime(&wanted)
                guard found != -1 else { continue }
                var check = tm()
                localtime_r(&found, &check)
                guard (check.tm_hour, check.tm_min, check.tm_sec) == (hour, minute, second) else { continue }
                let candidate = Int64(found)
                if best.map({ abs(candidate - reference.seconds) < abs($0 - reference.seconds) }) ?? true { best = candidate }
            }
        }
        return best.map { EpochTime(seconds: $0, microseconds: fraction) }
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
