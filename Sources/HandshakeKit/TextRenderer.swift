import SocketCore
import Timeline

/// The default output: one line per packet, then a summary line when a connection ends.
///
///     21:30:32.123456 #1 127.0.0.1:43994 → 127.0.0.1:5000 [SYN] seq 0 len 0 win 65495 <mss 65495,...>
///         handshake 1/3: the client's connect() sends SYN and blocks
///
/// (on one line). Colour marks the phase on a terminal.
public final class TextRenderer: Renderer {
    public let output: OutputBuffer
    private let palette: Palette
    private let time: TimePrinter
    /// Words appended to the next packet's line, then cleared: each end's kernel state (`--kernel`).
    public var packetNote: String?

    public init(output: OutputBuffer, palette: Palette, timeFormat: TimeFormat) {
        self.output = output
        self.palette = palette
        self.time = TimePrinter(format: timeFormat)
    }

    public func packet(_ tracked: TrackedPacket) {
        let out = output
        let packet = tracked.packet
        time.write(packet.time, out)
        out.ascii(" #")
        out.decimal(tracked.connection)
        out.byte(32)
        out.string(packet.source.description)
        out.ascii(" → ")
        out.string(packet.destination.description)
        out.ascii(" ")
        palette.start(tracked.step, out)
        out.byte(91)
        out.string(packet.tcp.flags.description)
        out.byte(93)
        palette.reset(out)
        out.ascii(" seq ")
        out.decimal(tracked.relativeSequence)
        if packet.tcp.flags.contains(.ack) {
            out.ascii(" ack ")
            out.decimal(tracked.relativeAcknowledgement)
        }
        out.ascii(" len ")
        out.decimal(packet.tcp.payloadLength)
        out.ascii(" win ")
        if let window = tracked.window {
            out.decimal(window)
        } else {
            out.decimal(packet.tcp.window)
            out.byte(63)   // "?": the raw field; its scale is unknown without the handshake
        }
        if packet.tcp.flags.contains(.syn) {
            let options = packet.tcp.options.summary
            if !options.isEmpty { out.string(" <\(options)>") }
        }
        out.ascii("  ")
        palette.start(tracked.step, out)
        out.string(StepExplanation.text(for: tracked))
        palette.reset(out)
        if let note = packetNote {
            out.string(note)
            packetNote = nil
        }
        out.endLine()
    }

    /// A recorded system call or output line, as the lessons show them: the program's label,
    /// then the call strace-style with its duration, or the line it printed.
    ///
    ///     21:42:22.604990 [client] connect(fd 3, 127.0.0.1:35047) -> 0 <0.000102>
    ///     21:42:22.605250 [server] server Connected by 127.0.0.1:39102
    ///
    /// Types without a text form here (kernel events) are skipped.
    public func event(_ event: TimelineEvent) {
        let text: String
        switch event.type {
        case "syscall":
            guard let call = event.string("text") else { return }
            text = call + " " + Clock.spanSuffix(event.duration ?? 0)
        case "output":
            guard let line = event.string("text") else { return }
            text = event.string("stream") == "stderr" ? "(stderr) " + line : line
        default:
            return
        }
        let out = output
        time.write(Timestamp(seconds: Int(event.time.seconds), fraction: Int(event.time.fraction), isNanosecond: false), out)
        out.ascii(" ")
        palette.dim(out)
        out.string("[" + (event.label ?? "?") + "] ")
        palette.reset(out)
        out.string(text)
        out.endLine()
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        let out = output
        palette.bold(out)
        out.ascii("  = ")
        out.string(StepExplanation.summary(summary))
        palette.reset(out)
        out.endLine()
    }

    public func finish(_ stats: CaptureStats) {
        output.flush()
    }
}
