@preconcurrency import Glibc
import KernelKit
import LiveView
import SocketCore
import Timeline

/// `--format timeseq`: one connection's time-sequence graph as a standalone SVG, written when
/// the capture ends. The packets are kept as their `--format json` objects (what the projector
/// server's `/timeseq.svg` draws from too), so both pictures are drawn by one writer. The
/// kernel's `tcp-probe` samples (live `--kernel`, or a recording's sidecar) come as timeline
/// events and are kept the same way: the congestion-window plot under the graph.
final class TimeSequenceRenderer: Renderer {
    let output: OutputBuffer
    private let connection: Int?
    private var lines: [String] = []
    private lazy var json = JSONRenderer(output: OutputBuffer(lines: { [unowned self] line in
        if line.starts(with: Array("{\"type\":\"packet\"".utf8)) { self.lines.append(String(decoding: line, as: UTF8.self)) }
    }))

    init(output: OutputBuffer, connection: Int?) {
        self.output = output
        self.connection = connection
    }

    func packet(_ tracked: TrackedPacket) {
        if connection == nil || connection == tracked.connection { json.packet(tracked) }
    }

    /// A `tcp-probe` sample of the drawn connection (or of any, before `--conn` is known to match).
    func event(_ event: TimelineEvent) {
        guard event.type == "tcp-probe", connection == nil || connection == event.int("conn") else { return }
        lines.append(event.jsonLine)
    }

    func connectionEnded(_ summary: ConnectionSummary) {}

    func finish(_ stats: CaptureStats) {
        output.string(TimeSequenceWriter.svg(EventsFile.parse(lines.joined(separator: "\n")).events, connection: connection))
        output.flush()
    }
}
