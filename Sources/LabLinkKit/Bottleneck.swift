/// A link of limited rate with a drop-tail queue in front of it: the bottleneck of `--rate` and
/// `--queue`.
///
/// A packet of `n` bytes takes `n × 8 / rate` seconds to serialise (1500 bytes at 10 Mbit/s:
/// 1.2 ms), one after the other. A packet that arrives while the link is busy waits in the queue;
/// when `limit` packets already wait, it is dropped (drop-tail, as a router's FIFO does). The
/// packet being sent does not count as waiting. Times are CLOCK_MONOTONIC nanoseconds.
///
/// Pure arithmetic on arrival times, so tests can feed it synthetic packets.
public struct Bottleneck: Sendable {
    /// Bits per second; 0 means no limit (every packet departs as it arrives).
    public let bitsPerSecond: UInt64
    /// How many packets may wait.
    public let limit: Int
    /// When the link finishes sending the last packet admitted.
    public private(set) var busyUntil: UInt64 = 0
    /// The most packets that waited at once.
    public private(set) var peak = 0
    /// Start times of the packets admitted but not yet on the wire, oldest first (a ring of `limit`).
    private var starts: [UInt64]
    private var head = 0
    public private(set) var waiting = 0

    public init(bitsPerSecond: UInt64, limit: Int) {
        self.bitsPerSecond = bitsPerSecond
        self.limit = max(1, limit)
        starts = [UInt64](repeating: 0, count: max(1, limit))
    }

    /// How long `bytes` take on the wire, in nanoseconds (rounded up).
    public func serialisation(bytes: Int) -> UInt64 {
        guard bitsPerSecond > 0 else { return 0 }
        return (UInt64(bytes) * 8 * 1_000_000_000 + bitsPerSecond - 1) / bitsPerSecond
    }

    /// Admits a packet of `bytes` arriving at `now`: the time its last bit leaves the link, or nil
    /// when the queue is full and it is dropped.
    public mutating func admit(bytes: Int, at now: UInt64) -> UInt64? {
        guard bitsPerSecond > 0 else { return now }
        // Packets whose turn has come by now have left the queue for the wire.
        while waiting > 0 && starts[head] <= now {
            head = (head + 1) % limit
            waiting -= 1
        }
        let start = max(now, busyUntil)
        if start > now {
            guard waiting < limit else { return nil }
            starts[(head + waiting) % limit] = start
            waiting += 1
            peak = max(peak, waiting)
        }
        busyUntil = start + serialisation(bytes: bytes)
        return busyUntil
    }
}
