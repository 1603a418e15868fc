/// The ladders of a list of events: one per connection, in the order they began, and the system
/// calls to draw beside them.
struct Ladder {
    var connections: [LadderConnection] = []
    /// Every system call, with the index of its event.
    var calls: [(index: Int, call: LadderEvent.SystemCall)] = []
    /// Which end each traced process is: connect() makes a client; listen() and accept() a server.
    var roles: [Int: LadderConnection.Side] = [:]
    private var positions: [Int: Int] = [:]   // connection number -> index in `connections`

    init(events: [LadderEvent]) {
        var early: [(Int, LadderEvent.StateChange)] = []
        for (index, event) in events.enumerated() {
            switch event {
            case .packet(let segment):
                if positions[segment.connection] == nil {
                    positions[segment.connection] = connections.count
                    connections.append(LadderConnection(first: segment))
                }
                connections[positions[segment.connection]!].add(segment, index: index)
            case .syscall(let call):
                calls.append((index, call))
                if call.call == "connect" { roles[call.pid] = .client }
                if ["listen", "accept", "accept4"].contains(call.call) { roles[call.pid] = .server }
            case .state(let change):
                // The kernel often reports a state (SYN_SENT) before the capture sees the packet.
                early.append((index, change))
            case .connection(let summary):
                if let position = positions[summary.connection] { connections[position].summary = summary }
            case .linkDrop(let lost):
                // On the ladder of the connection it belongs to; a lost first SYN has none to draw on.
                if let position = connections.lastIndex(where: { $0.concerns(local: lost.source, remote: lost.destination) }) {
                    connections[position].add(lost, index: index)
                }
            }
        }
        for (index, change) in early { place(change, index: index) }
    }

    private mutating func place(_ change: LadderEvent.StateChange, index: Int) {
        let position = change.connection.flatMap { positions[$0] }
            ?? connections.firstIndex { $0.concerns(local: change.local, remote: change.remote) }
        if let position { connections[position].add(change, index: index) }
    }

    /// A process's end: learnt from its calls, else guessed from its label.
    func role(of call: LadderEvent.SystemCall) -> LadderConnection.Side? {
        if let role = roles[call.pid] { return role }
        if call.label.lowercased().contains("client") { return .client }
        if call.label.lowercased().contains("server") { return .server }
        return nil
    }

    /// The calls drawn beside a connection: calls of a process whose end is known that overlap
    /// the connection's lifetime. A call naming another connection's client port (accept() does)
    /// and a connect() that did not send this connection's SYN belong elsewhere.
    func calls(of connection: LadderConnection) -> [(index: Int, call: LadderEvent.SystemCall)] {
        let clientPorts = Set(connections.map { String($0.client.port) })
        let own = String(connection.client.port)
        let end = connection.summary == nil ? Double.infinity : connection.lastTime
        return calls.filter { _, call in
            guard role(of: call) != nil else { return false }
            let named = Self.ports(in: call.text).filter { clientPorts.contains($0) }
            if !named.isEmpty && !named.contains(own) { return false }
            let stop = call.time + call.duration
            if call.call == "connect", let syn = connection.progress.synTime, !(call.time <= syn && syn <= stop) { return false }
            return call.time <= end + 0.002 && stop >= connection.firstTime - 0.002
        }
    }

    /// The numbers after a colon in a trace line (`127.0.0.1:5000` gives `5000`).
    static func ports(in text: String) -> [String] {
        var ports: [String] = [], digits = "", afterColon = false
        for character in text + " " {
            if afterColon && character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            if !digits.isEmpty { ports.append(digits) }
            digits = ""
            afterColon = character == ":"
        }
        return ports
    }
}
