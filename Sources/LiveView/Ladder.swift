import SocketCore
/// The ladders of a list of events: one per connection, in the order they began, and the system
/// calls to draw beside them. `LadderBuilder` makes it one event at a time.
///
/// Each connection is kept behind a reference (`Entry`): a copy of the ladder, which a response
/// holds while it is written, costs a pointer per connection, and a new event copies only the
/// connection it changes.
struct Ladder: Sendable {
    /// One connection, frozen: a change makes a new entry.
    final class Entry: Sendable {
        let connection: LadderConnection
        init(_ connection: LadderConnection) { self.connection = connection }
    }

    var entries: [Entry] = []
    /// Every system call, with the index of its event.
    var calls: [(index: Int, call: LadderEvent.SystemCall)] = []
    /// Which end each traced process is: connect() makes a client; listen() and accept() a server.
    var roles: [Int: ConnectionSide] = [:]
    /// Every connection's client port: a call that names one belongs to that connection.
    var clientPorts: Set<Int> = []

    var connections: [LadderConnection] { entries.map(\.connection) }

    init() {}

    init(events: [LadderEvent]) {
        var builder = LadderBuilder()
        for event in events { builder.add(event) }
        self = builder.ladder()
    }

    /// A process's end: learnt from its calls, else guessed from its label.
    func role(of call: LadderEvent.SystemCall) -> ConnectionSide? {
        if let role = roles[call.pid] { return role }
        if call.label.lowercased().contains("client") { return .client }
        if call.label.lowercased().contains("server") { return .server }
        return nil
    }

    /// The calls drawn beside a connection: calls of a process whose end is known that overlap
    /// the connection's lifetime. A call naming another connection's client port (accept() does)
    /// and a connect() that did not send this connection's SYN belong elsewhere.
    func calls(of connection: LadderConnection) -> [(index: Int, call: LadderEvent.SystemCall)] {
        let own = connection.client.port
        let end = connection.summary == nil ? Double.infinity : connection.lastTime
        return calls.filter { _, call in
            guard role(of: call) != nil else { return false }
            let named = Self.ports(in: call.text).compactMap { isClientPort($0) }
            if !named.isEmpty && !named.contains(own) { return false }
            let stop = call.time + call.duration
            if call.call == "connect", let syn = connection.progress.synTime, !(call.time <= syn && syn <= stop) { return false }
            return call.time <= end + 0.002 && stop >= connection.firstTime - 0.002
        }
    }

    /// The port a number written in a trace line names, if it is a connection's client port
    /// written as the port is (`05000` is not port 5000).
    private func isClientPort(_ digits: String) -> Int? {
        guard let port = Int(digits), clientPorts.contains(port), String(port) == digits else { return nil }
        return port
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
