import KernelKit
import SocketCore

/// `--kernel`: wraps the chosen renderer and puts the kernel's events beside its packets.
///
/// Before each packet it reads what the kernel reported and prints the events stamped up to the
/// packet's time, so lines interleave by time. An event the kernel stamped after the packet waits
/// for a later packet, the idle moment, or the end. It also numbers events with the connection
/// their 4-tuple belongs to and gives each connection summary the states both ends went through.
public final class KernelRenderer<Base: Renderer>: Renderer {
    /// How kernel lines are written: beside text lines, in the ladder's columns, or as JSON Lines.
    public enum Style { case text, ladder, json }

    let base: Base
    let kernel: KernelWatch
    let format: Style
    let relative: Bool
    public var output: OutputBuffer { base.output }
    public var waitDescriptor: Int32? { kernel.descriptor }

    private struct Ends { var client: String; var server: String; var clientStates: [String] = []; var serverStates: [String] = [] }
    private var connections: [String: Int] = [:]
    private var ends: [Int: Ends] = [:]
    private var firstPacket: EpochTime?
    private var ladderOrigins: [Int: EpochTime] = [:]

    public init(_ base: Base, kernel: KernelWatch, format: Style, relative: Bool) {
        self.base = base
        self.kernel = kernel
        self.format = format
        self.relative = relative
    }

    public func packet(_ tracked: TrackedPacket) {
        let time = Self.epoch(tracked.packet.time)
        if firstPacket == nil { firstPacket = time }
        let id = tracked.connection
        if ends[id] == nil {
            let (client, server) = (tracked.client.description, tracked.server.description)
            ends[id] = Ends(client: client, server: server)
            connections[Self.key(client, server)] = id
            ladderOrigins[id] = time
        }
        kernel.collect(activity: true)
        show(kernel.take(upTo: time))
        base.packet(tracked)
    }

    public func idle() {
        kernel.collect(activity: false)
        show(kernel.take(upTo: nil))
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        // A sample now: the timewait socket that took over the 4-tuple is there already.
        kernel.collect(activity: true, force: true)
        show(kernel.take(upTo: nil))
        var summary = summary
        if let known = ends.removeValue(forKey: summary.connection) {
            summary.clientStates = known.clientStates
            summary.serverStates = known.serverStates
            connections[Self.key(known.client, known.server)] = nil
            ladderOrigins[summary.connection] = nil
            let (client, server) = (summary.client, summary.server)
            summary.timeWaitSeconds = kernel.timeWaitSeconds(local: client.address.description, lport: Int(client.port),
                                                             remote: server.address.description, rport: Int(server.port))
                ?? kernel.timeWaitSeconds(local: server.address.description, lport: Int(server.port),
                                          remote: client.address.description, rport: Int(client.port))
        }
        base.connectionEnded(summary)
    }

    public func finish(_ stats: CaptureStats) {
        show(kernel.finish())
        base.finish(stats)
    }

    /// Numbers the events, records the states, and writes one line each.
    private func show(_ events: [KernelEvent]) {
        for var event in events {
            let socket = KernelEventLine.hostPort(event.local, event.localPort)
            let peer = KernelEventLine.hostPort(event.remote, event.remotePort)
            event.connection = event.hasAddresses ? connections[Self.key(socket, peer)] : nil
            if let id = event.connection, case .state(_, .timeWait, .sockDiag) = event.kind, !isClosing(id, socket) {
                event.connection = nil   // an older connection's timewait socket on the same 4-tuple
            }
            if let id = event.connection, case .state(let from, let to, _) = event.kind { record(id, socket, from, to) }
            switch format {
            case .json: output.string(event.json)
            case .text: output.string(timeText(event.time) + " " + event.text)
            case .ladder: output.string(KernelEventLine.ladder(event, client: event.connection.flatMap { ends[$0]?.client } == socket,
                                                               origin: event.connection.flatMap { ladderOrigins[$0] }))
            }
            output.endLine()
        }
    }

    /// Adds a state to the end it belongs to. A child socket's first event is `LISTEN → SYN_RECV`:
    /// `from` is LISTEN only because the child is cloned from the listener, so its list starts at SYN_RECV.
    private func record(_ id: Int, _ socket: String, _ from: TCPState, _ to: TCPState) {
        guard var known = ends[id] else { return }
        let isClient = socket == known.client
        var states = isClient ? known.clientStates : known.serverStates
        if states.isEmpty && from != .listen { states.append(from.description) }
        // FIN_WAIT2 → CLOSE is the full socket handing the 4-tuple to a timewait socket: for the
        // connection's end, the next state is TIME_WAIT (reported by sock_diag).
        if to == .timeWait, states.suffix(2) == ["FIN_WAIT2", "CLOSE"] { states.removeLast() }
        if states.last != to.description { states.append(to.description) }
        if isClient { known.clientStates = states } else { known.serverStates = states }
        ends[id] = known
    }

    /// True when the end `socket` of connection `id` has sent its FIN: only then can a TIME_WAIT
    /// on its 4-tuple be this connection's (loopback reuses 4-tuples still in TIME_WAIT).
    private func isClosing(_ id: Int, _ socket: String) -> Bool {
        guard let known = ends[id] else { return false }
        let states = socket == known.client ? known.clientStates : known.serverStates
        return ["FIN_WAIT1", "FIN_WAIT2", "CLOSING", "CLOSE"].contains(states.last ?? "")
    }

    private func timeText(_ time: EpochTime) -> String {
        guard relative, let firstPacket else { return Clock.timeOfDay(time) }
        let offset = time.microseconds - firstPacket.microseconds
        let sign = offset < 0 ? "-" : ""
        let magnitude = abs(offset)
        return sign + EpochTime(microseconds: magnitude).description
    }

    static func epoch(_ time: Timestamp) -> EpochTime {
        EpochTime(seconds: Int64(time.seconds), microseconds: Int64(time.isNanosecond ? time.fraction / 1000 : time.fraction))
    }

    private static func key(_ a: String, _ b: String) -> String { a < b ? a + " " + b : b + " " + a }
}
