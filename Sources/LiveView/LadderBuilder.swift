import SocketCore
import Timeline
/// Builds a `Ladder` one event at a time, as the live view receives them, with the indexes that
/// make each event cost the same at the 3,000th connection as at the first: connections by
/// number, and by their two ends (for kernel events and link drops, which name addresses).
///
/// A state change often comes before the capture's first packet of its connection (the kernel
/// reports SYN_SENT before the SYN is captured): it waits until that connection appears, or
/// until the ladder is taken, and then goes where a reading of the whole list would put it.
struct LadderBuilder {
    private var built = Ladder()
    /// Events added so far: the next one's index (its order among moments at the same time).
    private(set) var count = 0
    /// Connection number → position in `built.entries`.
    private var positions: [Int: Int] = [:]
    /// The first and the last connection between two ends.
    private var byEnds: [Ends: (first: Int, last: Int)] = [:]
    /// States naming a connection number not seen yet.
    private var waitingForNumber: [Int: [(Int, LadderEvent.StateChange)]] = [:]
    /// States naming no number, whose two ends no connection has had yet.
    private var waitingForEnds: [Ends: [(Int, LadderEvent.StateChange)]] = [:]

    /// Which `→ CLOSE` is a timewait takeover, and which TIME_WAIT repeats one.
    private var takeover = TimeWaitTakeover()

    private static func key(_ address: SocketAddress) -> String { address.description }

    /// Two ends of a connection, in either order.
    struct Ends: Hashable {
        let low: SocketAddress
        let high: SocketAddress

        init(_ one: SocketAddress, _ other: SocketAddress) {
            let swap = (one.ip, one.port) > (other.ip, other.port)
            low = swap ? other : one
            high = swap ? one : other
        }
    }

    mutating func add(_ event: LadderEvent) {
        let index = count
        count += 1
        switch event {
        case .packet(let segment):
            let position = positions[segment.connection] ?? open(segment)
            update(position) { $0.add(segment, index: index) }
        case .syscall(let call):
            built.calls.append((index, call))
            if call.call == "connect" { built.roles[call.pid] = .client }
            if ["listen", "accept", "accept4"].contains(call.call) { built.roles[call.pid] = .server }
        case .state(var change):
            // The timewait takeover is one step on the ladder: FIN_WAIT2 → TIME_WAIT.
            switch takeover.show(type: "state", local: Self.key(change.local), remote: Self.key(change.remote),
                                 from: change.from, to: change.to, source: change.source) {
            case .hidden: return
            case .takeover: change.to = "TIME_WAIT"
            case .asReported: break
            }
            place(change, index: index)
        case .reset(let local, let remote):
            _ = takeover.show(type: "reset-sent", local: Self.key(local), remote: Self.key(remote))
        case .connection(let summary):
            if let position = positions[summary.connection] { update(position) { $0.summary = summary } }
        case .linkDrop(let lost):
            // On the ladder of the connection it belongs to; a lost first SYN has none to draw on.
            if let position = byEnds[Ends(lost.source, lost.destination)]?.last {
                update(position) { $0.add(lost, index: index) }
            }
        }
    }

    /// The ladder so far, with the states still waiting placed by their ends.
    func ladder() -> Ladder {
        var ladder = built
        let waiting: [(Int, LadderEvent.StateChange)] = Array(waitingForNumber.values.joined()) + Array(waitingForEnds.values.joined())
        for (index, change) in waiting.sorted(by: { $0.0 < $1.0 }) {
            guard let position = byEnds[Ends(change.local, change.remote)]?.first else { continue }
            let entry = ladder.entries[position]
            var connection = entry.connection
            connection.add(change, index: index)
            ladder.entries[position] = Ladder.Entry(connection)
        }
        return ladder
    }

    /// A new connection, from its first segment; places the states that waited for it.
    private mutating func open(_ segment: LadderEvent.Segment) -> Int {
        let connection = LadderConnection(first: segment)
        let position = built.entries.count
        built.entries.append(Ladder.Entry(connection))
        built.clientPorts.insert(connection.client.port)
        positions[segment.connection] = position
        let ends = Ends(connection.client, connection.server)
        byEnds[ends] = (byEnds[ends]?.first ?? position, position)
        let waiting = (waitingForNumber.removeValue(forKey: segment.connection) ?? [])
            + (waitingForEnds.removeValue(forKey: ends) ?? [])
        for (index, change) in waiting.sorted(by: { $0.0 < $1.0 }) {
            update(position) { $0.add(change, index: index) }
        }
        return position
    }

    /// A state goes to the connection it names, else to the first between its two ends.
    private mutating func place(_ change: LadderEvent.StateChange, index: Int) {
        if let number = change.connection {
            if let position = positions[number] {
                update(position) { $0.add(change, index: index) }
            } else {
                waitingForNumber[number, default: []].append((index, change))
            }
        } else if let position = byEnds[Ends(change.local, change.remote)]?.first {
            update(position) { $0.add(change, index: index) }
        } else {
            waitingForEnds[Ends(change.local, change.remote), default: []].append((index, change))
        }
    }

    /// Changes one connection. Its old entry is let go first, so when no response holds it,
    /// the connection's arrays are changed in place rather than copied.
    private mutating func update(_ position: Int, _ change: (inout LadderConnection) -> Void) {
        var connection = built.entries[position].connection
        built.entries[position] = Self.vacant
        change(&connection)
        built.entries[position] = Ladder.Entry(connection)
    }

    /// What a slot holds for the instant its connection is being changed.
    private static let vacant = Ladder.Entry(LadderConnection(first: LadderEvent.Segment(
        time: 0, source: SocketAddress(ip: "0.0.0.0", port: 0)!, destination: SocketAddress(ip: "0.0.0.0", port: 0)!,
        flags: [], sequence: 0, acknowledgement: 0, length: 0, connection: 0, step: "")))
}
