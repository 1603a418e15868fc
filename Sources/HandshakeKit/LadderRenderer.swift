import SocketCore
import Timeline

/// A sequence diagram per connection, as teachers draw it on the board: the client's column on
/// the left, the server's on the right, one arrow per segment, time running down.
///
///                  client 127.0.0.1:43994                   server 127.0.0.1:5000
///     #1    0.000 ms |-- SYN seq 0 win 65495 -------------------->| connect() sends SYN, blocks
///     #1    0.011 ms |<-- SYN,ACK seq 0 ack 1 win 65483 ----------| kernel answers, not accept()
///     #1    0.019 ms |-- ACK seq 1 ack 1 win 65536 -------------->| connect() returns
///
/// Times count from the first line drawn, one origin for all connections, so they only go down
/// the page. Lines of different connections may interleave; the `#n` tag tells them apart.
///
/// A traced program's calls (`-- COMMAND`, `--pid`, or a replay's sidecar) hang from the column
/// of the end their process is (`CallSides`), `+-` where they leave it, in the words the text
/// form prints. A call that spans other lines comes in two halves, its start above them and its
/// return below, so connect() visibly holds the handshake and accept() waits for it:
///
///        0.000 ms |                                               +- [server] accept(fd 3) ...
///        0.262 ms +- [client] connect(fd 3, 127.0.0.1:5000) ...   |
///     #1    0.290 ms |-- SYN seq 0 win 65495 -------------------->| connect() sends SYN, blocks
///     ...
///        0.301 ms +- [client] ... connect() -> 0 <0.000039>       |
///        0.307 ms |                                               +- [server] ... accept() -> fd 4 from 127.0.0.1:43994 <0.307107>
///        0.900 ms   [python3 4242] socket(AF_INET, SOCK_STREAM) -> fd 5 <0.000021>
///
/// The last: a call of a process whose end nothing has shown yet, on neither column.
public final class LadderRenderer: Renderer {
    public let output: OutputBuffer
    private let palette: Palette
    private var started: Set<Int> = []
    /// The first line drawn (a packet, a call, a lost packet): every time on the page counts from
    /// it, so times only go down.
    private var origin: Double?
    /// Which column each traced process's calls hang from.
    private var sides = CallSides()
    /// Characters between the two column bars.
    static let width = 46

    public init(output: OutputBuffer, palette: Palette) {
        self.output = output
        self.palette = palette
    }

    public func packet(_ tracked: TrackedPacket) {
        let out = output
        let id = tracked.connection
        if started.insert(id).inserted {
            sides.saw(client: tracked.client, server: tracked.server)
            // "client ..." starts at the left bar, "server ..." ends at the right bar.
            let tag = "#\(id) "
            let left = "client \(tracked.client)"
            let right = "server \(tracked.server)"
            let indent = String(repeating: " ", count: tag.count + 13)   // "#1 " + "    0.000 ms "
            let gap = String(repeating: " ", count: max(1, Self.width + 3 - left.count - right.count))
            palette.bold(out)
            out.string(tag + indent.dropFirst(tag.count) + left + gap + right)
            palette.reset(out)
            out.endLine()
        }
        var label = "\(tracked.packet.tcp.flags) seq \(tracked.relativeSequence)"
        if tracked.packet.tcp.flags.contains(.ack) { label += " ack \(tracked.relativeAcknowledgement)" }
        if tracked.packet.tcp.payloadLength > 0 { label += " len \(tracked.packet.tcp.payloadLength)" }
        label += tracked.window.map { " win \($0)" } ?? " win \(tracked.packet.tcp.window)?"
        let prefix = "#\(id) " + stamp(tracked.packet.time.value)
        let drawn = arrow(label, toServer: tracked.direction == .toServer)
        let caption = Self.shortText(tracked)
        out.string(prefix)
        palette.start(tracked.step, out)
        out.string(drawn)
        palette.reset(out)
        // Too wide for --width: the caption goes on its own line, under the arrow, so the arrows
        // stay one column of the picture instead of being cut mid-caption.
        if let width = out.wrapper?.width, (prefix + drawn + " " + caption).count > width {
            out.endLine()
            out.string(String(repeating: " ", count: prefix.count + 4) + caption)
        } else {
            out.string(" " + caption)
        }
        out.endLine()
    }

    private func arrow(_ label: String, toServer: Bool) -> String {
        let body = toServer ? "|-- \(label) " : "|<-- \(label) "
        let dashes = max(2, Self.width - body.count + 1)
        return toServer ? body + String(repeating: "-", count: dashes) + ">|" : body + String(repeating: "-", count: dashes + 1) + "|"
    }

    /// `    0.138 ms `: the time since the origin, which the first line drawn sets.
    private func stamp(_ time: Double) -> String {
        let origin = origin ?? time
        self.origin = origin
        let text = StepExplanation.fixed((time - origin) * 1000, 3)
        return String(repeating: " ", count: max(0, 9 - text.count)) + text + " ms "
    }

    /// A traced program's call, output line or exit, and a packet lab-link lost. The kernel's
    /// recorded events are not drawn here (live `--kernel` draws its own, KernelRenderer).
    public func event(_ event: TimelineEvent) {
        switch event.type {
        case "syscall", "output", "exit": programLine(event)
        case "link-drop": lost(event)
        default: return
        }
    }

    /// One line of a traced program, hanging from its end's column (see the type's comment):
    /// `+- [client] connect(fd 3, 127.0.0.1:5000) ...`. The client's words run between the
    /// columns (the server's bar is drawn after them when they fit); the server's to the right
    /// of its bar, or, past `--width`, on their own line under it, as a packet's caption.
    private func programLine(_ event: TimelineEvent) {
        guard let text = TextRenderer.programText(event) else { return }
        let side = sides.side(of: event)
        let out = output
        let label = event.label ?? "?"
        let prefix = "   " + stamp(event.time.value)
        let hook = switch side {
        case .client: "+- "
        case .server: "|" + String(repeating: " ", count: Self.width + 1) + "+- "
        case nil: "  "
        }
        let words = label.count + 3 + text.count   // "[label] text"
        if side == .server, let width = out.wrapper?.width, prefix.count + hook.count + words > width {
            out.string(prefix + hook.dropLast())
            out.endLine()
            out.string(String(repeating: " ", count: prefix.count + 4))
        } else {
            out.string(prefix + hook)
        }
        palette.dim(out)
        out.ascii("[")
        out.untrusted(label)   // a sidecar's label and text are a file's: no control character passes
        out.ascii("] ")
        palette.reset(out)
        out.untrusted(text)
        if side == .client, hook.count + words < Self.width + 2 {
            out.string(String(repeating: " ", count: Self.width + 2 - hook.count - words) + "|")
        }
        out.endLine()
    }

    /// A packet lab-link lost (a `link-drop` of the recording's sidecar): an arrow that stops
    /// halfway, in ✗, at the time it was lost.
    ///
    ///           0.156 ms |<-- SYN,ACK seq 0 ------------✗               | lost (rule)
    private func lost(_ event: TimelineEvent) {
        let flags = (event["flags"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
        var label = flags.isEmpty ? "packet" : flags
        // A SYN's number is its side's ISN, relative 0 as on the other arrows; others stay raw
        // (this renderer does not know the connection's ISNs).
        if let seq = event.int("seq") { label += " seq \(flags.contains("SYN") ? 0 : seq)" }
        if let length = event.int("len"), length > 0 { label += " len \(length)" }
        let toServer = event.string("dir") == "c→s"
        let body = toServer ? "|-- \(label) " : "|<-- \(label) "
        let half = max(body.count + 2, Self.width / 2 + 2)
        let line = body + String(repeating: "-", count: max(2, half - body.count)) + "✗"
        output.string("   " + stamp(event.time.value))
        // The server's bar where the arrows have it, `Self.width + 2` columns after the client's.
        output.string(line + String(repeating: " ", count: max(1, Self.width + 2 - line.count)) + "| lost ("
                      + Console.printable(Array((event.string("reason") ?? "?").utf8)) + ")")
        output.endLine()
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        started.remove(summary.connection)
        palette.bold(output)
        output.string("#\(summary.connection) └ " + StepExplanation.summary(summary))
        palette.reset(output)
        output.endLine()
    }

    public func finish(_ stats: CaptureStats) {
        output.flush()
    }

    /// ` after 1.017 s`, or nothing when the previous copy was not captured.
    private static func after(_ gap: Double?) -> String {
        gap.map { " after \(StepExplanation.seconds($0))" } ?? ""
    }

    /// The explanation, shortened to fit beside the diagram: the wording table's caption, with
    /// the analysis's most telling finding where there is one.
    static func shortText(_ tracked: TrackedPacket) -> String {
        guard let finding = AnalysisExplanation.shortText(for: tracked) else { return StepExplanation.caption(for: tracked) }
        switch tracked.step {
        case .data: return StepExplanation.caption(for: tracked, key: "data/finding", finding: finding)
        case .ack: return StepExplanation.caption(for: tracked, key: "ack/finding", finding: finding)
        case .retransmit, .dupAck, .probe: return finding
        default: return StepExplanation.caption(for: tracked)
        }
    }
}
