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
/// Times count from the capture's first packet, one origin for all connections, so they only go
/// down the page. Lines of different connections may interleave; the `#n` tag tells them apart.
public final class LadderRenderer: Renderer {
    public let output: OutputBuffer
    private let palette: Palette
    private var started: Set<Int> = []
    /// The capture's first packet: every time on the page counts from it, so times only go down.
    private var origin: Double?
    /// Characters between the two column bars.
    static let width = 46

    public init(output: OutputBuffer, palette: Palette) {
        self.output = output
        self.palette = palette
    }

    public func packet(_ tracked: TrackedPacket) {
        let out = output
        let id = tracked.connection
        if origin == nil { origin = tracked.packet.time.value }
        if started.insert(id).inserted {
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
        let elapsed = tracked.packet.time.value - (origin ?? tracked.packet.time.value)
        var label = "\(tracked.packet.tcp.flags) seq \(tracked.relativeSequence)"
        if tracked.packet.tcp.flags.contains(.ack) { label += " ack \(tracked.relativeAcknowledgement)" }
        if tracked.packet.tcp.payloadLength > 0 { label += " len \(tracked.packet.tcp.payloadLength)" }
        label += tracked.window.map { " win \($0)" } ?? " win \(tracked.packet.tcp.window)?"
        let stamp = StepExplanation.fixed(elapsed * 1000, 3)
        let prefix = "#\(id) " + String(repeating: " ", count: max(0, 9 - stamp.count)) + stamp + " ms "
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

    /// A packet lab-link lost (a `link-drop` of the recording's sidecar): an arrow that stops
    /// halfway, in ✗, at the time it was lost. Other recorded events are not drawn here.
    ///
    ///           0.156 ms |<-- SYN,ACK seq 0 ------------✗                | lost (rule)
    public func event(_ event: TimelineEvent) {
        guard event.type == "link-drop", let origin else { return }
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
        let stamp = StepExplanation.fixed((event.time.value - origin) * 1000, 3)
        output.string("   " + String(repeating: " ", count: max(0, 9 - stamp.count)) + stamp + " ms ")
        output.string(line + String(repeating: " ", count: max(1, Self.width + 3 - line.count)) + "| lost ("
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
