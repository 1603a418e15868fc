@preconcurrency import Glibc
import Synchronization

/// System-call tracing: `--trace` on every tool turns it on.
///
/// Each wrapper in `Syscalls` reports one line per call to stderr, in the convention of
/// `strace -tt -T`: the time of day when the call *started* (CLOCK_REALTIME, the clock libpcap
/// stamps packets with), the call, and how long it took in `<seconds>`:
///
///     20:04:58.419600 connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>
///
/// So the span `[start, start + duration]` holds the call, and a lesson can lay the program's
/// view beside the wire's: the SYN, SYN-ACK and ACK fall inside connect()'s span.
public enum Trace {
    private static let enabled = Atomic<Bool>(false)

    /// Turns tracing on for the whole process.
    public static func enable() { enabled.store(true, ordering: .relaxed) }

    /// Turns tracing off again (a test that traced its own calls).
    public static func disable() { enabled.store(false, ordering: .relaxed) }

    /// Whether wrappers should report. Checked before reading any clock or building any text,
    /// so tracing costs nothing when it is off.
    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// A call being timed: both clocks read just before it.
    ///
    /// The monotonic clock is read first and the wall clock last, right before the call, and the
    /// monotonic clock again right after it returns: so `start <= the call's real start` and
    /// `start + duration >= its real return`. The span never claims less than the call took.
    public struct Span: Sendable {
        /// CLOCK_REALTIME just before the call: the line's stamp.
        public let start: EpochTime
        private let startMonotonic: UInt64

        /// Reads the clocks; call it immediately before the system call.
        @inline(__always)
        public init() {
            startMonotonic = Clock.monotonicNanoseconds()
            start = Clock.now()
        }

        /// Ends the span and writes its line. The monotonic clock is read first and the text
        /// built only after, so formatting never counts as part of the call.
        @inline(__always)
        public func end(_ text: @autoclosure () -> String) {
            stop().emit(text())
        }

        /// Reads the monotonic clock: the call has returned. For a caller with work to do
        /// between the return and the line (getaddrinfo's list to walk); `emit` writes it later.
        @inline(__always)
        public func stop() -> Stopped {
            Stopped(start: start, duration: Double(Clock.monotonicNanoseconds() &- startMonotonic) / 1e9)
        }
    }

    /// A span whose call has returned: its start and duration, waiting for its text.
    public struct Stopped: Sendable {
        public let start: EpochTime
        /// Seconds, from CLOCK_MONOTONIC.
        public let duration: Double

        public func emit(_ text: String) { Trace.emit(text, start: start, duration: duration) }
    }

    /// A span when tracing is on, nil (no clock read) when it is off.
    @inline(__always)
    public static func begin() -> Span? { isEnabled ? Span() : nil }

    /// Writes one trace line to stderr: `HH:MM:SS.uuuuuu text <d.dddddd>`. One `fputs` per line:
    /// stdio locks the stream, so lines from different threads never interleave.
    public static func emit(_ text: String, start: EpochTime, duration: Double) {
        fputs(line(text, start: start, duration: duration) + "\n", stderr)
    }

    /// The text of a trace line, without its newline.
    public static func line(_ text: String, start: EpochTime, duration: Double) -> String {
        Clock.timeOfDay(start) + " " + text + " " + Clock.spanSuffix(duration)
    }
}
