import Synchronization

/// What the capture loop and the thread watching for Ctrl-C share.
public final class WatchState: Sendable {
    /// Set by SIGINT/SIGTERM: the loop ends after the current packet.
    public let stopped = Atomic<Bool>(false)
    /// Set when the loop has ended.
    public let finished = Atomic<Bool>(false)
    /// Packets seen so far (live), for the "nothing seen" hint.
    public let packets = Atomic<Int>(0)
    /// The capture's breaker, once the capture is open (a FIFO can block in the opening).
    public let breaker = Mutex<CaptureBreaker?>(nil)
    /// The signal that stopped the run (0: none yet), for the exit status.
    public let endingSignal = Atomic<Int32>(0)
    /// What must be undone outside the process (the tracefs instance) if the loop cannot end
    /// by itself after a signal (blocked in a write to a stalled pipe): the signal thread runs it.
    public let cleanup = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}
}
