@preconcurrency import Glibc

/// The signal calls: ignoring one, blocking a set in every thread, and waiting for one with
/// sigwait(3) on a thread of its own (no code runs in a signal handler).
extension Syscall {
    /// signal(2) SIG_IGN.
    public static func ignore(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    /// pthread_sigmask(3) SIG_BLOCK: the calling thread, and every thread it starts afterwards,
    /// leaves these signals pending instead of taking their default action.
    public static func block(_ signals: [Int32]) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// sigwait(3): sleeps until one of `signals` (blocked beforehand) is pending, takes it and
    /// returns which.
    public static func waitForSignal(_ signals: [Int32]) -> Int32 {
        var set = signalSet(signals)
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    /// sigtimedwait(2): like `waitForSignal`, but for at most `seconds`; nil when the time ran
    /// out. EINTR (another signal's handler ran) waits again.
    public static func waitForSignal(_ signals: [Int32], timeout seconds: Double) -> Int32? {
        var set = signalSet(signals)
        var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        while true {
            let received = sigtimedwait(&set, nil, &limit)
            if received > 0 { return received }
            if errno == EAGAIN { return nil }
        }
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}
