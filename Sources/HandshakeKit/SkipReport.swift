@preconcurrency import Glibc

/// The warnings for packets that could not be decoded: the first of a kind in full, then a count.
///
/// A zero-filled file has a broken record every few bytes; a line for each would be hundreds of
/// thousands of identical lines. So a reason is printed once, and the packets that repeat it right
/// after (no good packet between) are counted and reported in one line when another reason comes or the capture ends:
///
///     skipped packet 1: truncated Ethernet header
///     skipped 299999 more packets: truncated Ethernet header
struct SkipReport {
    private var lastReason: String?
    private var repeats = 0

    mutating func skipped(_ number: Int, reason: String) {
        if reason == lastReason {
            repeats += 1
            return
        }
        finish()
        lastReason = reason
        fputs("skipped packet \(number): \(reason)\n", stderr)
    }

    /// A packet decoded: the run of identical failures, if any, is over.
    @inline(__always)
    mutating func decoded() {
        if lastReason != nil {
            finish()
            lastReason = nil
        }
    }

    /// Prints the pending count, if any.
    mutating func finish() {
        if repeats > 0, let lastReason {
            fputs("skipped \(repeats) more packet\(repeats == 1 ? "" : "s"): \(lastReason)\n", stderr)
        }
        repeats = 0
    }
}
