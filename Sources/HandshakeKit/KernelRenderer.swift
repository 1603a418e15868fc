import KernelKit
import Timeline
import SocketCore

/// `--kernel`: wraps the chosen renderer and puts the kernel's events beside its packets.
///
/// Before each packet it reads what the kernel reported and prints the events stamped up to the
/// packet's time, so lines interleave by time. A packet's line waits for the next packet (or
/// 50 ms of quiet) so it can name each end's state after the segment; an event waits for the
/// packets stamped before it the same way. It also numbers events with the connection
/// their 4-tuple belongs to and gives each connection summary the states both ends went through.
///
/// An event never comes out ahead of packets not read yet: events wait for a later packet, or
/// for the capture's ring to be empty (`idle`). When the capture stops with packets still in the
/// ring (Ctrl-C in a burst), the events after the last packet read are left out with them, and
/// a line on stderr says how many.
public final class KernelRenderer<Base: Renderer>: Renderer {
    /// How kernel lines are written: beside text lines, in the ladder's columns, as JSON Lines,
    /// or handed to the base renderer as timeline events (a drawing that collects them: timeseq).
    public enum Style { case text, ladder, json, events }

    let base: Base
    let kernel: KernelWatch
    let format: Style
    let relative: Bool
    let brief: Bool
    /// The runner's paired lines (`PairedLinesRenderer`), which kernel lines join in both forms.
    let pairs: PairedLinesRenderer?
    public var output: OutputBuffer { base.output }
    public var waitDescriptor: Int32? { kernel.descriptor ?? base.waitDescriptor }

    private struct Ends { var client: String; var server: String; var pair: Pair; var clientStates: [String] = []; var serverStates: [String] = [] }
    /// A connection's two ends, in either order: the key that finds an event's connection
    /// (compared as numbers and addresses, never through formatted text).
    private struct Pair: Hashable {
        var a: String, aPort: Int, b: String, bPort: Int
        init(_ local: String, _ lport: Int, _ remote: String, _ rport: Int) {
            (a, aPort, b, bPort) = (lport, local) < (rport, remote) ? (local, lport, remote, rport) : (remote, rport, local, lport)
        }
    }
    private var connections: [Pair: Int] = [:]
    private var ends: [Int: Ends] = [:]
    private var firstPacket: EpochTime?
    private var ladderOrigins: [Int: EpochTime] = [:]
    /// The last packet, printed once the kernel's events up to the next one are known.
    private var held: TrackedPacket?
    /// The stamps (µs) of the `retransmit` reports already given to a segment, the last second's.
    private var matchedRetransmits = Set<Int64>()
    /// The last packet's time, and the last time the ring was found empty (`idle`): every packet
    /// stamped before then (less the reorder window) had been read.
    private var lastPacket: EpochTime?
    private var lastIdle: EpochTime?

    /// `brief`: `--brief`'s short kernel lines (`KernelLines.brief`), stamped to the millisecond
    /// as the brief packet lines are. `pairs`: the runner's paired lines, inside `base`.
    public init(_ base: Base, kernel: KernelWatch, format: Style, relative: Bool, brief: Bool = false,
                pairs: PairedLinesRenderer? = nil) {
        self.base = base
        self.pairs = pairs
        self.kernel = kernel
        self.format = format
        self.relative = relative
        self.brief = brief
        lines.brief = brief
    }

    public func packet(_ tracked: TrackedPacket) {
        let time = Self.epoch(tracked.packet.time)
        if firstPacket == nil { firstPacket = time }
        let id = tracked.connection
        if ends[id] == nil {
            let (client, server) = (tracked.client, tracked.server)
            let pair = Pair(client.address.description, Int(client.port), server.address.description, Int(server.port))
            ends[id] = Ends(client: client.description, server: server.description, pair: pair)
            connections[pair] = id
            ladderOrigins[id] = time
        }
        kernel.collect(activity: true)
        let packet = tracked.packet
        if packet.tcp.flags.contains(.syn) && !packet.tcp.flags.contains(.ack) {
            kernel.connectSeen(local: packet.source.address.description, lport: Int(packet.source.port),
                               remote: packet.destination.address.description, rport: Int(packet.destination.port))
        }
        releaseHeld(upTo: time)
        show(kernel.take(upTo: time).map(number))
        held = tracked
        lastPacket = time
    }

    /// How long an event waits for packets stamped before it: the tracer can report a state
    /// change before libpcap hands over the segment that caused it.
    static var reorderWindow: Int64 { 50_000 }   // µs

    /// Nothing to read from libpcap: shows what is older than the reorder window.
    public func idle(caughtUp: EpochTime) {
        kernel.collect(activity: false)
        let now = Clock.now()
        lastIdle = now
        let horizon = EpochTime(microseconds: now.microseconds - Self.reorderWindow)
        if let tracked = held, Self.epoch(tracked.packet.time) <= horizon { releaseHeld(upTo: horizon) }
        if held == nil { show(kernel.take(upTo: horizon).map(number)) }
        base.idle(caughtUp: caughtUp)   // a traced program's events (`-- COMMAND`) are released there
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        // What the tracepoints have now. No forced sample of the socket table: the timewait
        // socket is looked up by its 4-tuple below (a dump per connection end costs the square of a burst).
        kernel.collect(activity: true)
        // The ending packet and what it made the kernel do (1 ms is plenty on one machine); later
        // events wait for the packets before them, which may be other connections'.
        if let ending = held {
            let limit = EpochTime(microseconds: Self.epoch(ending.packet.time).microseconds + 1_000)
            releaseHeld(upTo: limit, only: summary.connection)
        } else {
            show(kernel.take(upTo: shownHorizon).map(number))
        }
        let (client, server) = (summary.client, summary.server)
        for (a, b) in [(client, server), (server, client)] {
            if let event = kernel.lookUpTimeWait(local: a.address.description, lport: Int(a.port),
                                                 remote: b.address.description, rport: Int(b.port)) {
                show([number(event)])
            }
        }
        // A TIME_WAIT reported later than the next connection's packets still belongs in this
        // summary: the socket table knows it (from a lookup or a dump) for the end that closed first.
        for (a, b) in [(client, server), (server, client)] {
            let socket = a.description
            if isClosing(summary.connection, socket),
               kernel.timeWaitSeconds(local: a.address.description, lport: Int(a.port),
                                      remote: b.address.description, rport: Int(b.port)) != nil {
                record(summary.connection, socket, .finWait2, .timeWait)
            }
        }
        var summary = summary
        if let known = ends.removeValue(forKey: summary.connection) {
            summary.clientStates = known.clientStates
            summary.serverStates = known.serverStates
            connections[known.pair] = nil
            ladderOrigins[summary.connection] = nil
            summary.timeWaitSeconds = kernel.timeWaitSeconds(local: client.address.description, lport: Int(client.port),
                                                             remote: server.address.description, rport: Int(server.port))
                ?? kernel.timeWaitSeconds(local: server.address.description, lport: Int(server.port),
                                          remote: client.address.description, rport: Int(client.port))
        }
        base.connectionEnded(summary)
    }

    public func event(_ event: TimelineEvent) { base.event(event) }

    public func finish(_ stats: CaptureStats) {
        kernel.collect(activity: true, force: true)
        let horizon = shownHorizon
        if let last = held, let lastPacket, horizon <= lastPacket {
            // What the last packet made the kernel do (1 ms is plenty), of its connection only:
            // in a burst, other connections' events of that millisecond belong to unread packets.
            releaseHeld(upTo: EpochTime(microseconds: lastPacket.microseconds + 1_000), only: last.connection)
        } else {
            releaseHeld(upTo: horizon)
        }
        let (events, leftOut) = kernel.finish(upTo: horizon)
        show(events.map(number))
        if leftOut > 0 {
            Console.error("handshake-watch: --kernel: \(leftOut) kernel events left out: they came after the last packet "
                + "read, and the capture stopped before the packets after it were read")
        }
        base.finish(stats)
    }

    /// The kernel's word on a retransmission: `tcp:tcp_retransmit_skb` fires for the sending
    /// socket once the copy has left, so libpcap's stamp comes a few microseconds earlier and,
    /// in a burst, the report can come after the next packets. A report for this segment's
    /// 4-tuple, from its sender, within 1 ms either side, not yet given to an earlier segment,
    /// says the kernel retransmitted it. That confirms the analysis's guess, or corrects it (old
    /// bytes Wireshark's timing rule takes for out-of-order). No report is not taken for a
    /// denial: in a burst the report can be read after the packet's line is written.
    func judgedByKernel(_ tracked: TrackedPacket, near events: [KernelEvent]) -> TrackedPacket {
        let packet = tracked.packet
        guard packet.tcp.payloadLength > 0 || packet.tcp.flags.contains(.fin) else { return tracked }
        let time = Self.epoch(packet.time).microseconds
        let source = packet.source, destination = packet.destination
        matchedRetransmits = matchedRetransmits.filter { time - $0 < 1_000_000 }
        func unmatchedReport(in candidates: [KernelEvent]) -> KernelEvent? {
            candidates.first { event in
                guard case .retransmit = event.kind else { return false }
                return event.localPort == Int(source.port) && event.remotePort == Int(destination.port)
                    && event.local == source.address.description && event.remote == destination.address.description
                    && abs(time - event.time.microseconds) <= 1_000 && !matchedRetransmits.contains(event.time.microseconds)
            }
        }
        var report = unmatchedReport(in: events + kernel.waiting(near: Self.epoch(packet.time), within: 0.001))
        if report == nil && !tracked.findings.isDisjoint(with: TCPAnalysis.anyRetransmission.union(.outOfOrder)) {
            kernel.collect(activity: true)   // the report may have come while this packet was handled
            report = unmatchedReport(in: kernel.waiting(near: Self.epoch(packet.time), within: 0.001))
        }
        var judged = tracked
        if let report {
            matchedRetransmits.insert(report.time.microseconds)
            judged.kernelRetransmit = true
            if judged.step == .data { judged.step = .retransmit }
        }
        return judged
    }


    /// The latest time an event may have and be shown: the last packet read, or the last time
    /// the ring was found empty less the reorder window, whichever is later. A packet stamped
    /// later may still be unread.
    private var shownHorizon: EpochTime {
        let afterPacket = lastPacket?.microseconds ?? 0
        let caughtUp = lastIdle.map { $0.microseconds - Self.reorderWindow } ?? 0
        return EpochTime(microseconds: max(afterPacket, caughtUp))
    }

    /// Prints the packet held back, once the kernel's events up to the next packet (`limit`; nil:
    /// all so far) are in: those stamped before it first, then its line with each end's state
    /// after the segment, then those stamped after it (what the segment made the kernel do).
    ///
    /// The state after the segment counts the events after it up to the first one a *call* causes
    /// on its way to sending the next segment (connect()'s SYN_SENT, close()'s FIN_WAIT1 and
    /// LAST_ACK): that one belongs to the next packet.
    /// `only`: after the packet, take only that connection's events (its last packet: the next
    /// connection's may already be under way within the same millisecond).
    private func releaseHeld(upTo limit: EpochTime?, only connection: Int? = nil) {
        guard let tracked = held else { return }
        held = nil
        let time = Self.epoch(tracked.packet.time)
        let before = kernel.take(upTo: time)
        let after: [KernelEvent]
        if let connection, let limit {
            // Ports first: in a burst, most events in that millisecond are other connections'.
            let pair = ends[connection]?.pair
            after = kernel.take(upTo: limit) { event in
                guard let pair, event.localPort == pair.aPort || event.localPort == pair.bPort else { return false }
                return Pair(event.local, event.localPort, event.remote, event.remotePort) == pair
            }
        } else {
            after = kernel.take(upTo: limit)
        }
        let caused = after.prefix { !Self.isSending($0) }
        let numbered = (before + caused).map(number)
        (pairs ?? (base as? TakesPacketNote))?.packetNote = stateNote(tracked.connection)
        let later = after.dropFirst(caused.count).map(number)
        show(Array(numbered.prefix(before.count)))
        base.packet(judgedByKernel(tracked, near: before + after))
        show(Array(numbered.dropFirst(before.count)) + later)
    }

    private func connectionNumber(_ event: KernelEvent) -> Int? {
        guard event.hasAddresses else { return nil }
        return connections[Pair(event.local, event.localPort, event.remote, event.remotePort)]
    }

    /// A state a system call enters right before its segment leaves.
    private static func isSending(_ event: KernelEvent) -> Bool {
        guard case .state(_, let to, _) = event.kind else { return false }
        return to == .synSent || to == .finWait1 || to == .lastAck
    }

    /// `  [client ESTABLISHED, server SYN_RECV]`: the last state the kernel reported for each end.
    private func stateNote(_ id: Int) -> String? {
        guard let known = ends[id] else { return nil }
        // FIN_WAIT2 → CLOSE hands the 4-tuple to a timewait socket: the end is in TIME_WAIT now
        // (sock_diag confirms it at its next sample).
        func current(_ states: [String]) -> String? {
            states.suffix(2) == ["FIN_WAIT2", "CLOSE"] || states.suffix(2) == ["CLOSING", "CLOSE"] ? "TIME_WAIT" : states.last
        }
        var parts: [String] = []
        if let state = current(known.clientStates) { parts.append("client \(state)") }
        if let state = current(known.serverStates) { parts.append("server \(state)") }
        return parts.isEmpty ? nil : "  [" + parts.joined(separator: ", ") + "]"
    }

    /// Gives an event its connection number and records the state change it reports.
    private func number(_ event: KernelEvent) -> KernelEvent {
        var event = event
        event.connection = connectionNumber(event)
        guard event.connection != nil else { return event }
        let socket = KernelEventLine.hostPort(event.local, event.localPort)
        if let id = event.connection, case .state(_, .timeWait, .sockDiag) = event.kind, !isClosing(id, socket) {
            event.connection = nil   // an older connection's timewait socket on the same 4-tuple
        }
        if let id = event.connection, case .state(let from, let to, _) = event.kind { record(id, socket, from, to) }
        return event
    }

    /// Also receives each event's JSON object, whatever the format (the live view's hub).
    public var mirror: ((String) -> Void)?

    /// Text and ladder lines show each step once (JSON keeps every event as it came).
    private var lines = KernelLines()

    /// Writes one line per event in the chosen format.
    private func show(_ events: [KernelEvent]) {
        for event in events {
            mirror?(event.json)
            switch format {
            case .json:
                output.string(event.json)
                output.endLine()
                continue
            case .events:
                base.event(event.timelineEvent)
                continue
            case .text, .ladder:
                break
            }
            guard let line = lines.next(event) else { continue }
            let event = line.event
            if format == .text, let pairs {
                // The runner's two forms: brief (as --brief shortens it) and whole.
                pairs.pair(brief: timeText(event.time, brief: true) + " " + event.briefText(line.text),
                           whole: timeText(event.time, brief: false) + " " + line.text)
                if let note = line.note { pairs.pair(brief: "", whole: note) }
                continue
            }
            if format == .text {
                output.string(timeText(event.time) + " " + line.text)
            } else {
                let socket = KernelEventLine.hostPort(event.local, event.localPort)
                output.string(KernelEventLine.ladder(event, text: line.text, client: event.connection.flatMap { ends[$0]?.client } == socket,
                                                     origin: event.connection.flatMap { ladderOrigins[$0] }))
            }
            output.endLine()
            if let note = line.note {
                output.string(note)
                output.endLine()
            }
        }
    }

    /// Adds a state to the end it belongs to. A child socket's first event is `LISTEN → SYN_RECV`:
    /// `from` is LISTEN only because the child is cloned from the listener, so its list starts at SYN_RECV.
    private func record(_ id: Int, _ socket: String, _ from: TCPState, _ to: TCPState) {
        guard var known = ends[id] else { return }
        let isClient = socket == known.client
        var states = isClient ? known.clientStates : known.serverStates
        // connect() takes a socket from CLOSE to SYN_SENT and nowhere else; that event names port
        // 0 and may be completed after the socket's next one (ConnectFixup): the list starts at CLOSE.
        if from == .close && to == .synSent && states.contains(TCPState.synSent.description) { return }
        if states.isEmpty && from == .synSent { states = [TCPState.close.description, from.description] }
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

    private func timeText(_ time: EpochTime, brief: Bool? = nil) -> String {
        let text = stampText(time)
        return (brief ?? self.brief) && format == .text ? String(text.dropLast(3)) : text   // microseconds to milliseconds
    }

    private func stampText(_ time: EpochTime) -> String {
        guard relative, let firstPacket else { return Clock.timeOfDay(time) }
        let offset = time.microseconds - firstPacket.microseconds
        let sign = offset < 0 ? "-" : ""
        let magnitude = abs(offset)
        return sign + EpochTime(microseconds: magnitude).description
    }

    static func epoch(_ time: Timestamp) -> EpochTime {
        EpochTime(seconds: Int64(time.seconds), microseconds: Int64(time.isNanosecond ? time.fraction / 1000 : time.fraction))
    }

}
