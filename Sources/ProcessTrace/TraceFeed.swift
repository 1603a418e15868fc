@preconcurrency import Glibc
import SocketCore
import Synchronization
import Timeline

/// Where the tracer thread hands its events to the capture thread: the finished calls, the
/// output lines and the process exits, and the calls still in progress (so a long accept() can
/// be shown as started).
///
/// A pipe wakes the capture loop's poll(2) when COMMAND or the tracer ends. Bounded: past
/// `limit` waiting events the tracer waits (the traced program stays stopped meanwhile), so
/// nothing is dropped and memory stays bounded.
public final class TraceFeed: Sendable {
    /// A call between its entry and exit stops.
    public struct InFlight: Sendable {
        public var start: EpochTime
        public var event: TimelineEvent
    }

    struct State {
        var events: [TimelineEvent] = []
        var inFlight: [Int32: InFlight] = [:]
        /// The COMMAND's waitpid status, once it has ended.
        var commandStatus: Int32?
        /// The tracer has stopped (every tracee gone, or detached).
        var finished = false
        /// Why the tracer could not start or had to stop.
        var problem: String?
    }

    public static let limit = 100_000
    /// The tracer is blocked in waitpid(2): every stop reported so far has been handled.
    let waiting = Atomic<Bool>(false)
    /// Stops handled so far: unchanged between two looks, with `waiting`, means caught up.
    let stopsHandled = Atomic<Int>(0)

    /// Whether the tracer is waiting for the next stop, and how many it has handled.
    public var progress: (waiting: Bool, stops: Int) {
        (waiting.load(ordering: .acquiring), stopsHandled.load(ordering: .acquiring))
    }
    private let state = Mutex(State())
    /// The read end wakes the capture loop; the write end is the tracer's.
    public let wakeDescriptor: Int32
    private let wakeWriter: Int32

    public init() {
        let ends = (try? Syscall.pipe(nonBlocking: true)) ?? (read: -1, write: -1)
        wakeDescriptor = ends.read
        wakeWriter = ends.write
    }

    deinit {
        if wakeDescriptor >= 0 { Syscall.closeQuietly(wakeDescriptor) }
        if wakeWriter >= 0 { Syscall.closeQuietly(wakeWriter) }
    }

    private func wake() {
        // EAGAIN: the pipe already holds a wake-up.
        _ = try? [UInt8(1)].withUnsafeBytes { try Syscall.write(wakeWriter, $0, traced: false) }
    }

    /// Empties the wake pipe (the capture thread, before it takes the events).
    public func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while let count = try? buffer.withUnsafeMutableBytes({ try Syscall.readIfReady(wakeDescriptor, into: $0) }), count > 0 {}
    }

    // MARK: - The tracer's side

    /// No wake-up per event: the capture shows an event only once the reorder window (50 ms)
    /// has passed, and it looks at least every 100 ms; waking it for each call would cost two
    /// context switches a call for nothing. The end of COMMAND and of the tracer do wake it.
    func add(_ event: TimelineEvent) {
        // One lock per event: the check and the append together (the capture thread takes the
        // same lock, so every extra one is a chance to wait for it).
        while !state.withLock({ state in
            guard state.events.count < Self.limit || state.finished else { return false }
            state.events.append(event)
            return true
        }) {
            Syscall.sleep(seconds: 0.001)
        }
    }

    /// The tracer lets a thread run on before it hands over what that stop means (the call's
    /// line is made while the program runs, not while it waits). Meanwhile the thread may send
    /// the packets its call causes, and the capture must not show them, or anything after
    /// `start`, before the call: the stop's time is held here until the feed has it.
    func hold(from start: EpochTime) { pendingStart.store(start.microseconds, ordering: .sequentiallyConsistent) }
    func holdEnded() { pendingStart.store(.max, ordering: .sequentiallyConsistent) }
    /// The time of a stop handled but not yet in the feed (`Int64.max`: none).
    private let pendingStart = Atomic<Int64>(.max)

    func started(_ tid: Int32, _ call: InFlight) { state.withLock { $0.inFlight[tid] = call } }
    func ended(_ tid: Int32) { state.withLock { _ = $0.inFlight.removeValue(forKey: tid) } }

    func commandEnded(_ status: Int32) {
        state.withLock { $0.commandStatus = status }
        wake()
    }

    func finish(problem: String? = nil) {
        state.withLock {
            $0.finished = true
            if let problem { $0.problem = problem }
            $0.inFlight = [:]
        }
        wake()
    }

    // MARK: - The capture's side

    /// Takes the events handed over so far, in the order they were finished.
    public func take() -> [TimelineEvent] {
        state.withLock { state in
            defer { state.events = [] }
            return state.events
        }
    }

    /// Nothing at or after this time may be shown yet: a stop stamped then is still being put
    /// into the feed (nil: none). Read before `take()` and `inFlight`.
    public var heldFrom: EpochTime? {
        let start = pendingStart.load(ordering: .sequentiallyConsistent)
        return start == .max ? nil : EpochTime(microseconds: start)
    }

    /// The calls in progress now, by thread.
    public var inFlight: [Int32: InFlight] { state.withLock { $0.inFlight } }
    public var commandStatus: Int32? { state.withLock { $0.commandStatus } }
    public var isFinished: Bool { state.withLock { $0.finished } }
    public var problem: String? { state.withLock { $0.problem } }
}
