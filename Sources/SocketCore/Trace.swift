@preconcurrency import Glibc
import Synchronization

/// System-call tracing: `--trace` on every tool turns it on.
///
/// Each wrapper in `Syscalls` reports one line per call to stderr, stamped with the time of day
/// from CLOCK_REALTIME, the clock libpcap stamps packets with, so a lesson can lay the program's
/// view (`connect(fd 3, 127.0.0.1:5000) -> 0`) beside the wire's (SYN, SYN-ACK, ACK):
///
///     20:32:38.838461 accept(fd 3) -> fd 4 from 127.0.0.1:43994
public enum Trace {
    private static let enabled = Atomic<Bool>(false)

    /// Turns tracing on for the whole process.
    public static func enable() { enabled.store(true, ordering: .relaxed) }

    /// Whether wrappers should report. Checked before building any text, so tracing costs
    /// nothing when it is off.
    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Writes one trace line to stderr. One `fputs` per line: stdio locks the stream, so lines
    /// from different threads never interleave.
    public static func emit(_ text: String) {
        fputs("\(timestamp()) \(text)\n", stderr)
    }

    /// Local time of day with microseconds, `HH:MM:SS.uuuuuu`, as tcpdump prints it.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timeOfDay(seconds: now.tv_sec, microseconds: Int(now.tv_nsec / 1000))
    }

    /// Formats an epoch time as local `HH:MM:SS.uuuuuu`.
    public static func timeOfDay(seconds: Int, microseconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        return "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(microseconds, 6))"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
