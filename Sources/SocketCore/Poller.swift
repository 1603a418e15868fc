@preconcurrency import Glibc

/// A set of sockets to wait on with poll(2): the readiness loop a single thread uses to serve
/// many clients (what Python's `selectors` module wraps).
///
/// Register descriptors with the events wanted (`POLLIN`: readable, `POLLOUT`: writable), call
/// `wait`, then look at what each one reported. poll() copies the whole array into the kernel
/// on every call: simple and fine for thousands of sockets; epoll(7) avoids that copy.
public struct Poller {
    /// What the kernel reported for one descriptor.
    public struct Event: Sendable {
        public let descriptor: Int32
        public let revents: Int16
        /// Data, a FIN, or (on a listening socket) a connection waiting for accept().
        public var isReadable: Bool { revents & Int16(POLLIN) != 0 }
        /// Room in the send buffer.
        public var isWritable: Bool { revents & Int16(POLLOUT) != 0 }
        /// POLLERR or POLLHUP: the connection failed or both directions are closed
        /// (or POLLNVAL: the descriptor is not open, a bug of ours).
        public var isHangUpOrError: Bool { revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 }
    }

    private var entries: [pollfd] = []
    private var indexOf: [Int32: Int] = [:]
    /// The last `wait`'s answer, kept so its storage is reused: a busy loop allocates nothing.
    private var ready: [Event] = []

    public init() {}

    /// How many descriptors are registered.
    public var count: Int { entries.count }

    /// Watches `descriptor` for `events` (`POLLIN`, `POLLOUT`, or both), replacing earlier interest.
    public mutating func watch(_ descriptor: Int32, events: Int16) {
        if let index = indexOf[descriptor] {
            entries[index].events = events
        } else {
            indexOf[descriptor] = entries.count
            entries.append(pollfd(fd: descriptor, events: events, revents: 0))
        }
    }

    /// Stops watching `descriptor` (call before closing it).
    public mutating func remove(_ descriptor: Int32) {
        guard let index = indexOf.removeValue(forKey: descriptor) else { return }
        let last = entries.count - 1
        if index != last {
            entries[index] = entries[last]
            indexOf[entries[index].fd] = index
        }
        entries.removeLast()
    }

    /// poll(2): waits up to `timeoutMilliseconds` (-1: forever) and returns the ready descriptors.
    public mutating func wait(timeoutMilliseconds: Int32 = -1) throws -> [Event] {
        let count = try Syscall.poll(&entries, timeout: timeoutMilliseconds)
        ready.removeAll(keepingCapacity: true)
        guard count > 0 else { return ready }
        for entry in entries where entry.revents != 0 {
            ready.append(Event(descriptor: entry.fd, revents: entry.revents))
        }
        return ready
    }
}
