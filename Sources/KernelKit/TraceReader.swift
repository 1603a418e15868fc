import SocketCore

/// Takes the events out of a `TraceInstance`'s `trace_pipe`, whole lines at a time.
///
/// trace_pipe is a consuming read: what is read is gone from the buffer. Opened non-blocking, a
/// read with nothing pending fails with EAGAIN; the caller poll(2)s the descriptor to wait.
public final class TraceReader {
    public let instance: TraceInstance
    public let clock: TraceClock
    private var pending: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)

    public init(instance: TraceInstance, clock: TraceClock = .current()) {
        self.instance = instance
        self.clock = clock
    }

    /// Everything ready now, parsed. Lines of other events, or cut short, are skipped.
    public func readAvailable() -> [KernelEvent] {
        var events: [KernelEvent] = []
        while true {
            // EAGAIN (thrown): the buffer is empty for now.
            guard let count = try? chunk.withUnsafeMutableBytes({ try Syscall.read(instance.pipe, into: $0) }),
                  count > 0 else { break }
            pending.append(contentsOf: chunk[..<count])
            var start = 0   // the lines are cut in place; what follows the last newline stays
            while let newline = pending[start...].firstIndex(of: 10) {
                if let event = TracefsLine.parse(pending[start..<newline], clock: clock) { events.append(event) }
                start = newline + 1
            }
            pending.removeFirst(start)
            // tracefs hands over at most a page per read(2); less than half a page means the
            // buffer ran dry, so the read that would say EAGAIN is saved (the next call makes it).
            if count < 2048 { break }
        }
        return events
    }
}
