import Timeline

/// Which column of the ladder a traced process's call hangs from: the client's or the server's.
///
/// Decided from evidence only, never from a label's wording (a program called `server` may well
/// connect somewhere): first the call's own fields, then what earlier calls taught about its
/// descriptor (per process: threads share them), then about its lane, the `[label]` it is shown
/// with (a program, a thread, or the role a recording gave one process playing both ends).
/// Without any, the side is unknown (`nil`) and the call is drawn on neither column.
///
///     listen(fd 3, backlog 5)               server: fd 3 and this lane
///     accept(fd 3) -> fd 4 from ...:53864   server: fd 4 too
///     connect(fd 3, 127.0.0.1:5000)         client (an IP address: a connect() to a Unix
///                                           socket, as libc's to nscd, is no TCP client)
///     recv(fd 4, 2048) -> 5                 fd 4's side, learnt at accept()
///     write(fd 1, "...") -> 36              the lane's side
///     socket(AF_INET, SOCK_STREAM) -> fd 3  the lane's side, or none before anything
struct CallSides {
    enum Side { case client, server }

    /// A descriptor of a process: `pid fd`.
    private struct Descriptor: Hashable {
        var process: String
        var fd: Int
    }
    private var descriptors: [Descriptor: Side] = [:]
    /// A lane's side; `.some(nil)` once it was seen on both (a proxy): its calls without a
    /// descriptor of known side are then drawn on neither.
    private var lanes: [String: Side?] = [:]
    /// The ports bound (bind) and then listened on: a call from one is the server's, to one the client's.
    private var bound: [Descriptor: Int] = [:]
    private var listening: Set<Int> = []
    /// The connections' ends the ladder has drawn, `address port` → the side it is.
    private var ends: [String: Side] = [:]

    /// A connection's first packet: calls naming either end can be placed by it.
    mutating func saw(client: Endpoint, server: Endpoint) {
        ends["\(client.address) \(client.port)"] = .client
        ends["\(server.address) \(server.port)"] = .server
    }

    /// The side of a `syscall`, `output` or `exit` event, learning from it for the calls after.
    mutating func side(of event: TimelineEvent) -> Side? {
        let process = event.int("pid").map(String.init) ?? event.label ?? "?"
        let lane = event.label ?? process
        guard event.type == "syscall", let name = event.string("call") else { return lanes[lane] ?? nil }
        let text = event.string("text") ?? ""
        let fd = event.int("fd") ?? Self.argumentFD(text)
        let key = fd.map { Descriptor(process: process, fd: $0) }
        // A call's result is known at its return: a start half (`part` start) teaches no result.
        let returned = event.string("part") != "start"
        let result = event.int("result") ?? Self.resultFD(text)

        if name == "bind", let key, let port = event.int("lport") ?? Self.port(in: text), port > 0 { bound[key] = port }
        if name == "listen", let key, let port = event.int("lport") ?? bound[key], port > 0 { listening.insert(port) }
        if name == "socket", returned, let result { descriptors[Descriptor(process: process, fd: result)] = nil }

        var side = evidence(name, text, event)
        if let side {
            if let key { descriptors[key] = side }
            if name.hasPrefix("accept"), returned, let result { descriptors[Descriptor(process: process, fd: result)] = side }
            switch lanes[lane] {
            case nil: lanes[lane] = side
            case .some(let known) where known != side: lanes[lane] = .some(nil)
            default: break
            }
        } else {
            side = key.flatMap { descriptors[$0] } ?? lanes[lane] ?? nil
        }
        if name == "close", returned, let key { descriptors[key] = nil; bound[key] = nil }
        return side
    }

    /// What the call itself says: its name, or an end it names that the ladder knows.
    private func evidence(_ name: String, _ text: String, _ event: TimelineEvent) -> Side? {
        if name == "listen" || name.hasPrefix("accept") { return .server }
        if name == "connect", event.int("rport") != nil || Self.namesAnAddress(text) { return .client }
        if let local = event.string("local"), let port = event.int("lport"), let side = ends["\(local) \(port)"] { return side }
        if let remote = event.string("remote"), let port = event.int("rport"), let side = ends["\(remote) \(port)"] {
            return side == .client ? .server : .client
        }
        if let port = event.int("lport"), listening.contains(port) { return .server }
        if let port = event.int("rport"), listening.contains(port) { return .client }
        return nil
    }

    /// `connect(fd 3, 127.0.0.1:5000)` or `connect(fd 3, [::1]:5000)`: an IP address, not a
    /// Unix socket's `"/path"` (SockaddrText's forms).
    static func namesAnAddress(_ text: String) -> Bool {
        guard let comma = text.firstRange(of: ", ") else { return false }
        let next = text[comma.upperBound...].first
        return next == "[" || next?.isNumber == true
    }

    /// The first `fd N` among the arguments (before ` -> `): `recv(fd 4, 2048) -> 5` gives 4;
    /// `socket(...) -> fd 3` gives none (3 is its result).
    static func argumentFD(_ text: String) -> Int? {
        RecordedEvents.firstFD(text.firstRange(of: " -> ").map { String(text[..<$0.lowerBound]) } ?? text)
    }

    /// The descriptor a call returned: `-> fd 4 from ...` gives 4.
    static func resultFD(_ text: String) -> Int? {
        guard let arrow = text.firstRange(of: " -> fd ") else { return nil }
        return Int(text[arrow.upperBound...].prefix { $0.isNumber })
    }

    /// The port of the address a call names: `bind(fd 3, 127.0.0.1:5000) -> 0` gives 5000.
    static func port(in text: String) -> Int? {
        guard let close = text.firstIndex(of: ")"), let colon = text[..<close].lastIndex(of: ":") else { return nil }
        return Int(text[text.index(after: colon)..<close])
    }
}
