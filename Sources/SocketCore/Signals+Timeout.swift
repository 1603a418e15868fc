@preconcurrency import Glibc

extension Signals {
    /// Waits at most `seconds` for SIGINT or SIGTERM (sigtimedwait(2); call after
    /// `blockTermination`). Returns the signal, or nil when the time ran out, so the waiting
    /// thread can also do periodic work (handshake-watch's "nothing seen yet" hint).
    public static func waitForTermination(timeout seconds: Double) -> Int32? {
        wait(for: termination, timeout: seconds)
    }

    /// Waits at most `seconds` for one of `signals` (blocked with `block`); nil when the time ran out.
    public static func wait(for signals: [Int32], timeout seconds: Double) -> Int32? {
        Syscall.waitForSignal(signals, timeout: seconds)
    }
}
