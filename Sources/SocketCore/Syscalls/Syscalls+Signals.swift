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

    /// pthread_sigmask(3) SIG_UNBLOCK: the calling thread takes these signals again.
    public static func unblock(_ signals: [Int32]) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// sigaction(2) with a handler that does nothing and no SA_RESTART: the signal's only effect
    /// is that a blocking call of the thread it reaches (waitpid) returns EINTR.
    public static func interruptOnly(_ signal: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
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
