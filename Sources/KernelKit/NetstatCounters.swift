import SocketCore

/// `/proc/net/netstat`'s TcpExt counters ListenOverflows and ListenDrops, as deltas.
///
/// The file holds pairs of lines, names then values:
///
///     TcpExt: SyncookiesSent SyncookiesRecv ... ListenOverflows ListenDrops ...
///     TcpExt: 0 0 ... 3 3 ...
///
/// These count for the whole network namespace, not for one socket: another program's full
/// accept queue counts too.
public struct NetstatCounters {
    public static let watched = ["ListenOverflows", "ListenDrops"]
    public let path: String
    private var last: [String: Int64] = [:]

    /// Reads the baseline now, so only changes from here on are reported.
    public init(path: String = "/proc/net/netstat") {
        self.path = path
        last = read()
    }

    /// The counters that changed since the last call, as events.
    public mutating func changes(at time: EpochTime) -> [KernelEvent] {
        let now = read()
        var events: [KernelEvent] = []
        for name in Self.watched {
            guard let total = now[name], let before = last[name], total != before else { continue }
            events.append(KernelEvent(time: time, kind: .counter(name: name, delta: total - before, total: total)))
        }
        last = now
        return events
    }

    func read() -> [String: Int64] {
        guard let bytes = try? Syscall.readFile(path, limit: 1 << 20) else { return [:] }
        return Self.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The TcpExt name/value pairs of the file's text.
    static func parse(_ text: String) -> [String: Int64] {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("TcpExt:") }
        guard lines.count >= 2 else { return [:] }
        let names = lines[0].split(separator: " ").dropFirst()
        let values = lines[1].split(separator: " ").dropFirst()
        var counters: [String: Int64] = [:]
        for (name, value) in zip(names, values) where Self.watched.contains(String(name)) {
            counters[String(name)] = Int64(value)
        }
        return counters
    }
}
