@preconcurrency import Glibc
import SocketCore

/// The kernel's view, gathered from its three sources into one list of events in time order:
/// the tracepoints (a `TraceInstance`, root only), the socket table (sock_diag, any user) and the
/// TcpExt counters (/proc/net/netstat, any user). One reader per source; this type only asks each
/// in turn, keeps what passes the capture filter, and sorts.
///
/// Not thread-safe, and needs no thread: the capture loop calls `collect` between packets and
/// while it waits, and waits on `descriptor` beside libpcap's.
public final class KernelWatch {
    /// Why the tracepoints are off (`need root`, or tracefs's error), or nil when they are on.
    public let tracepointProblem: String?
    private let trace: TraceReader?
    private let diag: SockDiag?
    private var table = SocketTable()
    private var counters = NetstatCounters()
    private let filter: EventFilter?
    private var fixup = ConnectFixup()
    private var lastSample = 0.0
    private var pending: [KernelEvent] = []

    /// Starts the sources. `filterExpression`: the user's capture filter (nil: everything TCP).
    /// `ports`: a kernel-side port filter for the tracepoints, when the filter is that simple.
    public init(filterExpression: String?, ports: [Int]) throws {
        TraceInstance.removeStale()
        var problem: String?
        var reader: TraceReader?
        if geteuid() != 0 {
            problem = "need root"
        } else {
            do { reader = TraceReader(instance: try TraceInstance(ports: ports)) } catch { problem = "tracefs: \(error)" }
        }
        trace = reader
        tracepointProblem = problem
        diag = try SockDiag()
        filter = filterExpression.flatMap { EventFilter(expression: $0) }
        if let sockets = try diag?.sockets(in: SocketTable.watchedStates) { _ = table.update(sockets, at: Clock.now()) }
    }

    /// trace_pipe's descriptor, to poll(2) beside the capture's; nil without tracepoints.
    public var descriptor: Int32? { trace?.instance.pipe }

    /// The instance's directory (for messages and tests), nil without tracepoints.
    public var instancePath: String? { trace?.instance.path }

    /// Reads what the sources have now. Samples the socket table and counters when `activity`
    /// (packets or events arrived) and 5 ms passed, or 100 ms passed since the last sample, or `force`.
    public func collect(activity: Bool, force: Bool = false) {
        var fresh = trace?.readAvailable() ?? []
        let now = Clock.monotonic()
        if force || now - lastSample >= 0.1 || ((activity || !fresh.isEmpty) && now - lastSample >= 0.005) {
            lastSample = now
            let time = Clock.now()
            if let sockets = try? diag?.sockets(in: SocketTable.watchedStates) {
                fresh += table.update(sockets, at: time)
            }
            fresh += counters.changes(at: time)
        }
        let passed = fixup.pass(fresh, now: Clock.now().microseconds).filter(shows)
        pending.append(contentsOf: passed)
    }

    /// Takes the collected events up to `time` (all when nil), in time order.
    public func take(upTo time: EpochTime?) -> [KernelEvent] {
        pending.sort { $0.time < $1.time }
        guard let time else { defer { pending = [] }; return pending }
        let count = pending.firstIndex { $0.time > time } ?? pending.count
        defer { pending.removeFirst(count) }
        return Array(pending[..<count])
    }

    /// The end of the run: held events, then the instance removed.
    public func finish() -> [KernelEvent] {
        collect(activity: true)
        pending += fixup.flush().filter(shows)
        trace?.instance.remove()
        return take(upTo: nil)
    }

    /// Removes the trace instance now (an error path); `finish` does it on the normal path.
    public func remove() { trace?.instance.remove() }

    /// Asks the kernel whether this 4-tuple is in TIME_WAIT now (an exact sock_diag lookup).
    /// Returns the `FIN_WAIT2 → TIME_WAIT` event when it is and had not been reported yet.
    public func lookUpTimeWait(local: String, lport: Int, remote: String, rport: Int) -> KernelEvent? {
        guard let socket = try? diag?.socket(local: local, lport: lport, remote: remote, rport: rport),
              socket.state == .timeWait else { return nil }
        return table.noteTimeWait(socket, at: Clock.now())
    }

    /// The TIME_WAIT timer first seen for a 4-tuple, in seconds.
    public func timeWaitSeconds(local: String, lport: Int, remote: String, rport: Int) -> Double? {
        table.timeWait(local: local, lport: lport, remote: remote, rport: rport)
    }

    private func shows(_ event: KernelEvent) -> Bool {
        guard event.hasAddresses, let filter else { return true }
        return filter.matches(local: event.local, lport: event.localPort, remote: event.remote, rport: event.remotePort)
            || (event.localPort == 0 && filter.matches(local: event.local, lport: 0, remote: event.remote, rport: event.remotePort))
    }
}
