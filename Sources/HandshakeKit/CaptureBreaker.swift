import CPcap
import Synchronization

/// The one thing another thread may do to a `Capture`: stop its loop (pcap_breakloop(3), which
/// libpcap documents as safe from another thread or a signal handler).
///
/// The capture itself stays an ordinary, single-thread type. This holds only the handle's address,
/// behind a lock, and forgets it when the capture closes, so a late Ctrl-C never touches a
/// closed handle.
public final class CaptureBreaker: Sendable {
    /// The `pcap_t *` as a number; 0 once the capture is closed.
    private let address: Mutex<UInt>

    init(_ handle: OpaquePointer) {
        address = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle))))
    }

    /// Makes the capture's blocked or next `next()` return `.end`.
    public func breakLoop() {
        address.withLock { bits in
            if let handle = OpaquePointer(bitPattern: bits) { pcap_breakloop(handle) }
        }
    }

    /// Called by the capture before it closes the handle.
    func invalidate() {
        address.withLock { $0 = 0 }
    }
}
