@preconcurrency import Glibc

extension Signals {
    /// Waits at most `seconds` for SIGINT or SIGTERM (sigtimedwait(2); call after
    /// `blockTermination`). Returns the signal, or nil when the time ran out, so the waiting
    /// thread can also do periodic work (handshake-watch's "nothing seen yet" hint).
    public static func waitForTermination(timeout seconds: Double) -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        while true {
            let received = sigtimedwait(&set, nil, &limit)
            if received > 0 { return received }
            if errno == EAGAIN { return nil }   // EINTR: another signal; wait again
        }
    }
}
