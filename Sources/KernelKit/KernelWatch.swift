@preconcurrency import Glibc
import SocketCore

/// The kernel's view, gathered from its three sources into one list of events in time order:
/// the tracepoints (a `TraceInstance`, root only), the socket table (sock_diag, any user) and the
/// TcpExt counters (/proc/net/netstat, any user). One reader per source; this type only asks each
/// in turn, keeps what passes the capture filter (`EventFilter`: an event passes when a packet
/// of its connection would), and holds them in time order (`KernelEventQueue`).
///
/// Its cost per connection is constant: a connection's end costs two exact sock_diag lookups
/// (its 4-tuple, both ways), never a dump; the socket table is dumped at most every 20 ms while
/// packets come, every 100 ms otherwise.
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
    private var probes = ProbeThinner()
    private var lastSample = 0.0
    /// The last sample of every watched state. The others ask for listeners only: those come
    /// from the listening hash, while the other states make the kernel walk its whole
    /// established hash (262,144 buckets here, and every TIME_WAIT on the machine).
    private var lastFullSample = 0.0
    /// The listeners the last full sample found (those the capture filter passes). Between full
    /// samples each is looked up by its address and port (one hash lookup in the kernel) instead
    /// of dumping the listening hash; past `listenerLookupLimit` of them, the dump is cheaper.
    private var listeners: [DiagSocket] = []
    static let listenerLookupLimit = 16
    private var pending = KernelEventQueue()
    /// The states the periodic dump asks for. With the tracepoints on, TIME_WAIT is not among
    /// them: thousands of timewait sockets (a busy machine) made each dump slow, and the
    /// tracepoint's `FIN_WAIT2 → CLOSE` says exactly which 4-tuple to look up instead.
    private let dumpStates: [TCPState]
    /// TIME_WAITs found by lookup, looked up again every second until they expire.
    private var timeWaits: [KernelEvent] = []
    private var lastTimeWaitCheck = 0.0

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
        dumpStates = reader == nil ? SocketTable.watchedStates : [.listen, .synRecv, .newSynRecv]
        diag = try SockDiag()
        filter = filterExpression.flatMap { EventFilter(expression: $0) }
        if let sockets = try diag?.sockets(in: dumpStates) {
            _ = table.update(sockets, at: Clock.now(), covering: dumpStates)
            listeners = sockets.filter { $0.state == .listen && showsListener($0) }
        }
    }

    /// trace_pipe's descriptor, to poll(2) beside the capture's; nil without tracepoints.
    public var descriptor: Int32? { trace?.instance.pipe }

    /// The instance's directory (for messages and tests), nil without tracepoints.
    public var instancePath: String? { trace?.instance.path }

    /// Reads what the sources have now. Samples the socket table and counters when `activity`
    /// (packets or events arrived) and 20 ms passed, or 100 ms passed since the last sample, or
    /// `force`: listeners (their accept queues) at each sample, the other states every 100 ms.
    /// A sample's events are stamped when it ends (the state was there by then), except accept
    /// queues, stamped when it was asked for (`SocketTable.update`).
    public func collect(activity: Bool, force: Bool = false) {
        var fresh = probes.pass(trace?.readAvailable() ?? [])
        let now = Clock.monotonic()
        if force || now - lastSample >= 0.1 || ((activity || !fresh.isEmpty) && now - lastSample >= 0.02) {
            lastSample = now
            let full = force || now - lastFullSample >= 0.1
            if full { lastFullSample = now }
            let states = full ? dumpStates : [.listen]
            // The counters first: a drop they count happened after a queue filled, so the dump
            // right after still finds that queue full (unless accept() emptied it meanwhile).
            let drops = full ? counters.changes(at: Clock.now()) : []
            let asked = Clock.now()
            if let sockets = full ? try? diag?.sockets(in: states) : listenerSample() {
                if full { listeners = sockets.filter { $0.state == .listen && showsListener($0) } }
                fresh += table.update(sockets, at: Clock.now(), asked: asked, covering: states)
            }
            if full { fresh += attributed(drops) }
        }
        var passed = fixup.pass(fresh, now: Clock.now().microseconds).filter(shows)
        // TIME_WAITs found here went through `shows` in lookUpTimeWait.
        for event in passed where Self.handsOverToTimeWait(event) {
            if let timeWait = lookUpTimeWait(local: event.local, lport: event.localPort,
                                             remote: event.remote, rport: event.remotePort) {
                passed.append(timeWait)
            }
        }
        pending.insert(passed)
        if now - lastTimeWaitCheck >= 1 { checkTimeWaits(); lastTimeWaitCheck = now }
    }

    /// The counters that changed (a file of 3 KB to parse: every 100 ms), each naming the
    /// listener (`local`, `lport`) when one the filter passes was seen full since the last read,
    /// this sample's dump included: the counters are the namespace's, only sock_diag can say the
    /// drop was likely ours.
    private func attributed(_ drops: [KernelEvent]) -> [KernelEvent] {
        var changes = drops
        let ours = table.takeFullListeners().first(where: showsListener)
        if let ours {
            for index in changes.indices {
                changes[index].local = ours.local
                changes[index].localPort = ours.localPort
            }
        }
        return changes
    }

    /// The known listeners now, each looked up by its address and port (sock_diag finds a
    /// listener when the peer's end is all zeros); a dump of listeners when there are many.
    private func listenerSample() -> [DiagSocket]? {
        guard listeners.count <= Self.listenerLookupLimit else { return try? diag?.sockets(in: [.listen]) }
        return listeners.compactMap { listener in
            guard let socket = try? diag?.socket(local: listener.local, lport: listener.localPort,
                                                 remote: listener.remote, rport: 0),
                  socket.state == .listen else { return nil }
            return socket
        }
    }

    private func showsListener(_ socket: DiagSocket) -> Bool {
        filter?.matches(local: socket.local, lport: socket.localPort, remote: socket.remote, rport: socket.remotePort) ?? true
    }

    /// A SYN (without ACK) was captured: completes the `CLOSE → SYN_SENT` its connect() reported
    /// with port 0 (`ConnectFixup`), so that line goes out before the SYN's.
    public func connectSeen(local: String, lport: Int, remote: String, rport: Int) {
        guard let event = fixup.complete(local: local, lport: lport, remote: remote, rport: rport), shows(event) else { return }
        pending.insert([event])
    }

    /// `FIN_WAIT2 → CLOSE` or `CLOSING → CLOSE`: the full socket gives its 4-tuple to a timewait socket.
    static func handsOverToTimeWait(_ event: KernelEvent) -> Bool {
        guard case .state(let from, .close, .tracepoint) = event.kind else { return false }
        return from == .finWait2 || from == .closing
    }

    /// The TIME_WAITs found by lookup that have expired since: `TIME_WAIT → CLOSE`.
    private func checkTimeWaits() {
        guard trace != nil, !timeWaits.isEmpty else { return }
        timeWaits.removeAll { event in
            if let socket = try? diag?.socket(local: event.local, lport: event.localPort,
                                              remote: event.remote, rport: event.remotePort),
               socket.state == .timeWait { return false }
            table.forgetTimeWait(local: event.local, lport: event.localPort, remote: event.remote, rport: event.remotePort)
            var closed = event
            closed.time = Clock.now()
            closed.kind = .state(from: .timeWait, to: .close, source: .sockDiag)
            pending.insert([closed])
            return true
        }
    }

    /// Takes the collected events up to `time` (all when nil), in time order.
    public func take(upTo time: EpochTime?) -> [KernelEvent] {
        pending.take(upTo: time)
    }

    /// How many collected events are not taken yet.
    public var waitingCount: Int { pending.count }

    /// The waiting events stamped within `seconds` of `time`, left waiting (`tcp_retransmit_skb`
    /// reports for the TCP analysis to match with a segment).
    public func waiting(near time: EpochTime, within seconds: Double) -> [KernelEvent] {
        Array(pending.peek(from: time.adding(seconds: -seconds), to: time.adding(seconds: seconds)))
    }

    /// Takes the collected events up to `time` that `matching` accepts, in time order; the others stay.
    public func take(upTo time: EpochTime, matching: (KernelEvent) -> Bool) -> [KernelEvent] {
        pending.take(upTo: time, matching: matching)
    }

    /// The end of the run: the events up to `time` (all when nil), then the instance removed.
    /// Returns them, and how many later ones were left out: when the capture stops with packets
    /// still unread in its buffer, the kernel's events about those packets go unshown with them.
    public func finish(upTo time: EpochTime?) -> (events: [KernelEvent], leftOut: Int) {
        collect(activity: true)
        pending.insert(fixup.flush().filter(shows))
        trace?.instance.remove()
        let events = take(upTo: time)
        return (events, pending.count)
    }

    /// Removes the trace instance now (an error path); `finish` does it on the normal path.
    public func remove() { trace?.instance.remove() }

    /// The trace instance, to remove from another thread when the run cannot end by itself (a
    /// signal while the output blocks); nil without tracepoints.
    public var instance: TraceInstance? { trace?.instance }

    /// Asks the kernel whether this 4-tuple is in TIME_WAIT now (an exact sock_diag lookup).
    /// Returns the `FIN_WAIT2 → TIME_WAIT` event when it is and had not been reported yet.
    public func lookUpTimeWait(local: String, lport: Int, remote: String, rport: Int) -> KernelEvent? {
        if let filter, !filter.matches(local: local, lport: lport, remote: remote, rport: rport) { return nil }
        guard let socket = try? diag?.socket(local: local, lport: lport, remote: remote, rport: rport),
              socket.state == .timeWait, let event = table.noteTimeWait(socket, at: Clock.now()) else { return nil }
        if trace != nil { timeWaits.append(event) }
        return event
    }

    /// The TIME_WAIT timer first seen for a 4-tuple, in seconds.
    public func timeWaitSeconds(local: String, lport: Int, remote: String, rport: Int) -> Double? {
        table.timeWait(local: local, lport: lport, remote: remote, rport: rport)
    }

    /// The capture filter's verdict (`EventFilter`); everything passes without a filter.
    private func shows(_ event: KernelEvent) -> Bool {
        filter?.matches(event) ?? true
    }
}
