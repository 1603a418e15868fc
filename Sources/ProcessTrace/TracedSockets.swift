import SocketCore
import Synchronization

/// The addresses of the traced programs' sockets, for the capture to keep their packets and
/// count the others': listeners' ports (a server's connections), the exact local end of every
/// connected socket, and, while a connect() is under way, its destination (the SYN leaves before
/// the call returns and names the local port).
///
/// Written by the tracer thread before it resumes the call (so before its first packet), read by
/// the capture thread per packet. The capture may read a packet well after it was sent (a loaded
/// machine, or a watch that lets packets gather): so a closed socket is forgotten by the packets'
/// stamps, not at once. A closed connection's end keeps matching for `lingerMicroseconds` after its
/// close() (its FIN exchange, the peer's late segments, TIME_WAIT), a closed listener's port
/// for the packets stamped before its close().
public final class TracedSockets: Sendable {
    struct Sets {
        var listeningPorts: [Int: Int] = [:]     // port → listeners
        var ends: [String: Int] = [:]            // "127.0.0.1:45678" → sockets
        var connecting: [String: Int] = [:]      // destinations of connect()s under way
        var closedEnds: [String: Int64] = [:]     // end → when its last socket closed (µs)
        var closedPorts: [Int: Int64] = [:]       // port → when its last listener closed (µs)
        /// The size at which the closed sets are next pruned of what is past its time.
        var pruneAt = 4_096
    }
    private let sets = Mutex(Sets())
    /// Bounds: a program with more sockets than this is shown by port only.
    static let limit = 1 << 20
    /// How long a closed connection's packets are still its program's: Linux's TIME_WAIT
    /// (TCP_TIMEWAIT_LEN, 60 s), in µs as the stamps are.
    static let lingerMicroseconds: Int64 = 60 * 1_000_000

    public init() {}

    func listen(port: Int) { sets.withLock { $0.listeningPorts[port, default: 0] += 1 } }
    func add(end: String) { sets.withLock { if $0.ends.count < Self.limit { $0.ends[end, default: 0] += 1 } } }

    /// A listener closed at `time` (its close()'s exit stop).
    func unlisten(port: Int, at time: EpochTime) {
        sets.withLock { sets in
            Self.decrement(&sets.listeningPorts, port)
            if sets.listeningPorts[port] == nil { sets.closedPorts[port] = time.microseconds }
            Self.prune(&sets, now: time.microseconds)
        }
    }

    /// A connected socket closed at `time` (its close()'s exit stop).
    func remove(end: String, at time: EpochTime) {
        sets.withLock { sets in
            Self.decrement(&sets.ends, end)
            if sets.ends[end] == nil { sets.closedEnds[end] = time.microseconds }
            Self.prune(&sets, now: time.microseconds)
        }
    }

    /// Drops what is past its time once the closed sets have doubled; bounded by `limit`.
    private static func prune(_ sets: inout Sets, now: Int64) {
        guard sets.closedEnds.count + sets.closedPorts.count >= sets.pruneAt else { return }
        sets.closedEnds = sets.closedEnds.filter { now - $0.value <= lingerMicroseconds }
        sets.closedPorts = sets.closedPorts.filter { now - $0.value <= lingerMicroseconds }
        if sets.closedEnds.count >= limit { sets.closedEnds = [:] }   // a million closes a minute: the oldest go
        sets.pruneAt = max(4_096, 2 * (sets.closedEnds.count + sets.closedPorts.count))
    }
    func connecting(_ destination: String) { sets.withLock { $0.connecting[destination, default: 0] += 1 } }
    func connected(_ destination: String) { sets.withLock { Self.decrement(&$0.connecting, destination) } }

    private static func decrement<K>(_ map: inout [K: Int], _ key: K) {
        guard let count = map[key] else { return }
        map[key] = count > 1 ? count - 1 : nil
    }

    /// How many closed ends and ports are remembered (bounded by pruning).
    var closedCount: Int { sets.withLock { $0.closedEnds.count + $0.closedPorts.count } }

    /// Whether a packet between these two ends, stamped at `time`, belongs to a traced program.
    public func matches(source: String, sourcePort: Int, destination: String, destinationPort: Int, time: EpochTime) -> Bool {
        sets.withLock { sets in
            if sets.listeningPorts[sourcePort] != nil || sets.listeningPorts[destinationPort] != nil
                || sets.ends[source] != nil || sets.ends[destination] != nil
                || sets.connecting[destination] != nil || sets.connecting[source] != nil { return true }
            let stamp = time.microseconds
            func lingering(_ end: String) -> Bool { sets.closedEnds[end].map { stamp <= $0 + Self.lingerMicroseconds } ?? false }
            func listenedThen(_ port: Int) -> Bool { sets.closedPorts[port].map { stamp <= $0 } ?? false }
            return lingering(source) || lingering(destination) || listenedThen(sourcePort) || listenedThen(destinationPort)
        }
    }
}
