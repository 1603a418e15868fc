@preconcurrency import Glibc
import SocketCore

/// Turns the trace instance's time stamps into CLOCK_REALTIME, the clock of packets.
///
/// The instance runs on the `tai` trace clock: CLOCK_TAI, which the kernel derives from the same
/// timekeeper as CLOCK_REALTIME, plus the TAI offset (37 s where NTP set it, often 0). So
/// `realtime = tai - offset`, with the offset a whole number of seconds read once at the start
/// from clock_gettime(2) on both clocks. NTP's slewing and `date -s` move both clocks together.
///
/// Error bound: tracefs prints microseconds (truncated), so a stamp is at most 1 µs early; the
/// tai clock's lock-free read may be wrong only while the offset itself changes (a leap second, or
/// adjtimex(2) setting the TAI offset during the capture). The other clocks would be worse: `mono`
/// and `boot` drift from CLOCK_REALTIME as NTP slews, and the default `local` clock is per-CPU.
public struct TraceClock: Sendable {
    /// The trace clock to write into the instance's `trace_clock`.
    public static let traceClockName = "tai"
    /// CLOCK_TAI - CLOCK_REALTIME, whole seconds.
    public let offsetSeconds: Int64

    public init(offsetSeconds: Int64) { self.offsetSeconds = offsetSeconds }

    /// Reads the offset now.
    public static func current() -> TraceClock {
        var tai = timespec(), real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_TAI, &tai)
        let difference = Double(tai.tv_sec - real.tv_sec) + Double(tai.tv_nsec - real.tv_nsec) / 1e9
        return TraceClock(offsetSeconds: Int64(difference.rounded()))
    }

    public func realtime(_ traceTime: EpochTime) -> EpochTime {
        EpochTime(microseconds: traceTime.microseconds - offsetSeconds * 1_000_000)
    }
}
