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
    private var first = true

    /// The TIME_WAIT timer each 4-tuple had when first seen, in seconds (for `time_wait_s`).
    public private(set) var timeWaitSeconds: [String: Double] = [:]

    public init() {}

    /// Compares `sockets` with the previous sample. The first sample only sets the baseline
    /// (except accept queues already holding connections).
    public mutating func update(_ sockets: [DiagSocket], at time: EpochTime) -> [KernelEvent] {
        var events: [KernelEvent] = []
        var seenQueues: [Tuple: Int] = [:], seenWaits: [Tuple: Int] = [:], seenRequests: Set<Tuple> = []
        for socket in sockets {
            let tuple = Tuple(local: socket.local, lport: socket.localPort, remote: socket.remote, rport: socket.remotePort)
            switch socket.state {
            case .listen:
                seenQueues[tuple] = socket.receiveQueue
                if queues[tuple] ?? 0 != socket.receiveQueue {
                    events.append(event(tuple, time, .acceptQueue(queued: socket.receiveQueue, backlog: socket.sendQueue)))
                }
            case .timeWait:
                seenWaits[tuple] = socket.expiresMilliseconds
                if timeWaits[tuple] == nil && !first {
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
        for (tuple, _) in timeWaits where seenWaits[tuple] == nil {
            events.append(event(tuple, time, .state(from: .timeWait, to: .close, source: .sockDiag)))
        }
        (queues, timeWaits, requests, first) = (seenQueues, seenWaits, seenRequests, false)
        return events
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
