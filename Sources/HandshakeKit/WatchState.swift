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

    public init() {}
}
