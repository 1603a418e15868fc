@preconcurrency import Glibc
import KernelKit
import LiveView
import SocketCore
import Timeline

/// `--format svg`: the ladder diagram of every connection as one standalone SVG file, written
/// when the capture ends (the end of a `-r` file, `-c`, or Ctrl-C). The projector page draws the
/// same diagram live; this is the one for slides and handouts.
final class SVGRenderer: Renderer {
    let output: OutputBuffer
    /// `-- COMMAND` / `--pid`: the traced programs' calls are drawn too.
    let drawsCalls: Bool
    private var events: [LadderEvent] = []

    init(output: OutputBuffer, drawsCalls: Bool = false) {
        self.output = output
        self.drawsCalls = drawsCalls
    }

    func packet(_ tracked: TrackedPacket) {
        let packet = tracked.packet
        events.append(.packet(LadderEvent.Segment(
            time: packet.time.value, source: Self.endpoint(packet.source), destination: Self.endpoint(packet.destination),
            flags: TCPFlags.names.filter { packet.tcp.flags.contains($0.0) }.map { "\($0.1)" },
            sequence: packet.tcp.sequence, acknowledgement: packet.tcp.acknowledgement,
            length: packet.tcp.payloadLength, connection: tracked.connection, step: tracked.step.rawValue)))
        if case .packet(var segment) = events.removeLast() {
            // What the JSON carries for the caption: the analysis, the dup ACK's number, the time since the original.
            segment.analysis = tracked.findings.nameList
            segment.duplicateAck = tracked.findings.contains(.duplicateAck) ? tracked.analysis.duplicateAckNumber : nil
            segment.duplicateAcksBefore = tracked.findings.contains(.fastRetransmission) ? tracked.analysis.duplicateAcksBefore : nil
            segment.sinceOriginalMilliseconds = tracked.analysis.sinceOriginal.map { ($0 * 1_000_000).rounded() / 1000 }
            events.append(.packet(segment))
        }
    }

    /// A recorded `link-drop` (the lost arrow, ending in ✗), or a traced system call
    /// (`-- COMMAND`, `--pid`): drawn as a bar on its process's side (the side its connect() or
    /// listen()/accept() gave it). A replay's file is drawn as it always was, without calls.
    func event(_ event: TimelineEvent) {
        if event.type == "link-drop", let lost = LadderEvent(event) { events.append(lost) }
        guard drawsCalls, event.type == "syscall", event["part"] == nil, let call = LadderEvent(event) else { return }
        events.append(call)
    }

    func connectionEnded(_ summary: ConnectionSummary) {
        events.append(.connection(LadderEvent.Summary(
            connection: summary.connection, client: summary.client.description, server: summary.server.description,
            outcome: summary.outcome.rawValue, connState: nil)))
    }

    func finish(_ stats: CaptureStats) {
        output.string(SVGLadderWriter.svg(ladderEvents: events))
        output.flush()
    }

    private static func endpoint(_ endpoint: Endpoint) -> SocketAddress {
        SocketAddress(ip: endpoint.address.description, port: Int(endpoint.port)) ?? SocketAddress(ip: "0.0.0.0", port: 0)!
    }
}
