import SocketCore

/// Turns successive sock_diag samples into events: what changed since the last look.
///
/// - a listener's accept queue length (`accept-queue`, when it changes);
/// - a 4-tuple seen in TIME_WAIT for the first time: `FIN_WAIT2 → TIME_WAIT` (the tracepoint never
///   reports TIME_WAIT: a separate timewait socket takes over), and `TIME_WAIT → CLOSE` once gone;
/// - a request socket (the SYN_RECV period before the handshake's ACK): `LISTEN → NEW_SYN_RECV`.
public struct SocketTable {
    public static let watchedStates: [TCPState] = [.listen, .timeWait, .synRecv, .newSynRecv]

    private struct Tuple: Hashable { var local: String, lport: Int, remote: String, rport: Int }
    private var queues: [Tuple: Int] = [:]
    private var timeWaits: [Tuple: Int] = [:]
    private var requests: Set<Tuple> = []
    /// TIME_WAIT 4-tuples missing from the last sample: gone only when missing from two in a row,
    /// since a dump is no snapshot and can skip sockets while others come and go.
    private var missing: Set<Tuple> = []
    /// TIME_WAITs already reported from an exact lookup (not tracked through the dumps).
    private var lookedUp: Set<Tuple> = []
    private var first = true
    /// Listeners whose accept queue was full (more queued than the backlog: the kernel's
    /// `sk_acceptq_is_full`) at a sample since `takeFullListeners`; at most one entry each.
    private var full: [Tuple: DiagSocket] = [:]

    /// The TIME_WAIT timer each 4-tuple had when first seen, in seconds (for `time_wait_s`).
    public private(set) var timeWaitSeconds: [String: Double] = [:]

    public init() {}

    /// Compares `sockets` with the previous sample. The first sample only sets the baseline
    /// (except accept queues already holding connections). `covering`: the states the sample
    /// asked for; what it did not ask for stays as the last sample that did saw it.
    ///
    /// `time` is when the answer was complete: a TIME_WAIT or a request socket in it was there by
    /// then. `asked` is when the request went out, and stamps the accept queues: the kernel read
    /// each queue after it, so a connection counted there was still queued at `asked`, and a
    /// sample stamped after accept() returned cannot count the connection accept() took. A
    /// dump walks the established hash after the listeners, so `time` can be milliseconds later.
    public mutating func update(_ sockets: [DiagSocket], at time: EpochTime, asked: EpochTime? = nil,
                                covering states: [TCPState] = SocketTable.watchedStates) -> [KernelEvent] {
        var events: [KernelEvent] = []
        var seenQueues: [Tuple: Int] = [:], seenWaits: [Tuple: Int] = [:], seenRequests: Set<Tuple> = []
        for socket in sockets {
            let tuple = Tuple(local: socket.local, lport: socket.localPort, remote: socket.remote, rport: socket.remotePort)
            switch socket.state {
            case .listen:
                seenQueues[tuple] = socket.receiveQueue
                if socket.receiveQueue > socket.sendQueue { full[tuple] = socket }
                if queues[tuple] ?? 0 != socket.receiveQueue {
                    events.append(event(tuple, asked ?? time, .acceptQueue(queued: socket.receiveQueue, backlog: socket.sendQueue)))
                }
            case .timeWait:
                seenWaits[tuple] = socket.expiresMilliseconds
                if timeWaits[tuple] == nil && !first && !lookedUp.contains(tuple) {
                    timeWaitSeconds[Self.key(tuple)] = Double(socket.expiresMilliseconds) / 1000
                    events.append(event(tuple, time, .state(from: .finWait2, to: .timeWait, source: .sockDiag)))
                }
            default:
                seenRequests.insert(tuple)
                if !requests.contains(tuple) && !first {
                    events.append(event(tuple, time, .state(from: .listen, to: .newSynRecv, source: .sockDiag)))
                }
            }
        }
        if !states.contains(.synRecv) { seenRequests = requests }
        var stillMissing: Set<Tuple> = []
        if !states.contains(.timeWait) { (seenWaits, stillMissing) = (timeWaits, missing) }
        else { for (tuple, expires) in timeWaits where seenWaits[tuple] == nil {
            if missing.contains(tuple) {
                events.append(event(tuple, time, .state(from: .timeWait, to: .close, source: .sockDiag)))
                timeWaitSeconds[Self.key(tuple)] = nil
            } else {
                stillMissing.insert(tuple)
                seenWaits[tuple] = expires
            }
        } }
        (queues, timeWaits, requests, missing, first) = (seenQueues, seenWaits, seenRequests, stillMissing, false)
        return events
    }

    /// The listeners seen with a full accept queue since the last call: what tells a SYN our
    /// listener dropped from one dropped elsewhere in the namespace (`NetstatCounters`).
    public mutating func takeFullListeners() -> [DiagSocket] {
        defer { full = [:] }
        return full.values.sorted { ($0.localPort, $0.local) < ($1.localPort, $1.local) }
    }

    /// Records a TIME_WAIT found by an exact lookup. Returns the state event when this 4-tuple
    /// had not been reported yet (a later dump then does not report it again).
    public mutating func noteTimeWait(_ socket: DiagSocket, at time: EpochTime) -> KernelEvent? {
        let tuple = Tuple(local: socket.local, lport: socket.localPort, remote: socket.remote, rport: socket.remotePort)
        guard timeWaits[tuple] == nil, lookedUp.insert(tuple).inserted else { return nil }
        timeWaitSeconds[Self.key(tuple)] = Double(socket.expiresMilliseconds) / 1000
        return event(tuple, time, .state(from: .finWait2, to: .timeWait, source: .sockDiag))
    }

    /// Forgets a TIME_WAIT found by lookup once it is gone, so the table holds only live ones
    /// (bounded by the kernel's own limit, `net.ipv4.tcp_max_tw_buckets`).
    public mutating func forgetTimeWait(local: String, lport: Int, remote: String, rport: Int) {
        let tuple = Tuple(local: local, lport: lport, remote: remote, rport: rport)
        lookedUp.remove(tuple)
        timeWaitSeconds[Self.key(tuple)] = nil
    }

    /// The TIME_WAIT timer of a 4-tuple, seconds left when first seen.
    public func timeWait(local: String, lport: Int, remote: String, rport: Int) -> Double? {
        timeWaitSeconds[Self.key(Tuple(local: local, lport: lport, remote: remote, rport: rport))]
    }

    private static func key(_ tuple: Tuple) -> String { "\(tuple.local) \(tuple.lport) \(tuple.remote) \(tuple.rport)" }

    private func event(_ tuple: Tuple, _ time: EpochTime, _ kind: KernelEvent.Kind) -> KernelEvent {
        KernelEvent(time: time, kind: kind, local: tuple.local, localPort: tuple.lport,
                    remote: tuple.remote, remotePort: tuple.rport)
    }
}
