import Synchronization

/// The addresses of the traced programs' sockets, for the capture to keep their packets and
/// count the others': listeners' ports (a server's connections), the exact local end of every
/// connected socket, and, while a connect() is under way, its destination (the SYN leaves before
/// the call returns and names the local port).
///
/// Written by the tracer thread before it resumes the call (so before its first packet), read by
/// the capture thread per packet.
public final class TracedSockets: Sendable {
    struct Sets {
        var listeningPorts: [Int: Int] = [:]     // port → listeners
        var ends: [String: Int] = [:]            // "127.0.0.1:45678" → sockets
        var connecting: [String: Int] = [:]      // destinations of connect()s under way
    }
    private let sets = Mutex(Sets())
    /// Bounds: a program with more sockets than this is shown by port only.
    static let limit = 1 << 20

    public init() {}

    func listen(port: Int) { sets.withLock { $0.listeningPorts[port, default: 0] += 1 } }
    func unlisten(port: Int) { sets.withLock { Self.decrement(&$0.listeningPorts, port) } }
    func add(end: String) { sets.withLock { if $0.ends.count < Self.limit { $0.ends[end, default: 0] += 1 } } }
    func remove(end: String) { sets.withLock { Self.decrement(&$0.ends, end) } }
    func connecting(_ destination: String) { sets.withLock { $0.connecting[destination, default: 0] += 1 } }
    func connected(_ destination: String) { sets.withLock { Self.decrement(&$0.connecting, destination) } }

    private static func decrement<K>(_ map: inout [K: Int], _ key: K) {
        guard let count = map[key] else { return }
        map[key] = count > 1 ? count - 1 : nil
    }

    /// Whether a packet between these two ends belongs to a traced program.
    public func matches(source: String, sourcePort: Int, destination: String, destinationPort: Int) -> Bool {
        sets.withLock { sets in
            sets.listeningPorts[sourcePort] != nil || sets.listeningPorts[destinationPort] != nil
                || sets.ends[source] != nil || sets.ends[destination] != nil
                || sets.connecting[destination] != nil || sets.connecting[source] != nil
        }
    }
}
