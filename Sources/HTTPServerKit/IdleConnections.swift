@preconcurrency import Glibc
import SocketCore
import Synchronization

/// When each parked keep-alive connection went idle, by descriptor number, so that a reaper
/// can close those idle longer than the timeout (epoll has no timeout per socket).
///
/// One atomic slot per possible descriptor; no lock, so parking and taking cost one atomic
/// operation on a slot no other connection uses. A slot holds:
///   0            the connection is being served by a worker (or there is none)
///   1            the reaper is shutting it down right now
///   2 + seconds  parked since that monotonic second
public final class IdleConnections: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    public let capacity: Int
    private let highest = Atomic<Int>(0)

    public init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        for index in 0..<capacity { (slots + index).initialize(to: Atomic(0)) }
    }

    /// Marks `fd` parked as of now (call before re-arming its epoll watch).
    public func park(_ fd: Int32) {
        let index = Int(fd)
        guard index < capacity else { return }
        slots[index].store(2 + IdleConnections.now(), ordering: .releasing)
        var top = highest.load(ordering: .relaxed)
        while index > top {
            let (exchanged, original) = highest.compareExchange(expected: top, desired: index, ordering: .relaxed)
            if exchanged { break }
            top = original
        }
    }

    /// Marks `fd` as being served again; waits the instant it takes the reaper to finish a
    /// shutdown() it has begun, so the descriptor cannot be closed and reused under it.
    public func take(_ fd: Int32) {
        let index = Int(fd)
        guard index < capacity else { return }
        while true {
            let value = slots[index].load(ordering: .acquiring)
            if value == 1 { sched_yield(); continue }
            if slots[index].compareExchange(expected: value, desired: 0, ordering: .acquiringAndReleasing).exchanged { return }
        }
    }

    /// Shuts down every connection parked for `timeout` seconds or more. shutdown(2), not close:
    /// the socket becomes readable (end of stream), a worker picks it up as usual, and closes it.
    /// `now` is read once, before the sweep: a connection parked during it, in the next second,
    /// is newer than `now`, and is skipped (the unsigned subtraction would trap).
    public func reap(olderThan timeout: Int, now: UInt64 = IdleConnections.now()) {
        let top = min(highest.load(ordering: .relaxed), capacity - 1)
        guard top >= 0 else { return }
        for index in 0...top {
            let value = slots[index].load(ordering: .relaxed)
            guard value >= 2, now >= value - 2, now - (value - 2) >= UInt64(timeout) else { continue }
            guard slots[index].compareExchange(expected: value, desired: 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            try? Syscall.shutdown(Int32(index), how: Int32(SHUT_RDWR))
            slots[index].store(0, ordering: .releasing)
        }
    }

    /// Monotonic whole seconds. The coarse clock (the last tick): every request parks and
    /// unparks, the reaper only compares whole seconds, and a coarse read costs a few ns.
    public static func now() -> UInt64 {
        Clock.monotonicNanoseconds(coarse: true) / 1_000_000_000
    }
}
