import Foundation
import KernelKit
import SocketCore
import Timeline

/// The default output: one line per packet, then a summary line when a connection ends.
///
///     21:30:32.123456 #1 127.0.0.1:43994 → 127.0.0.1:5000 [SYN] seq 0 len 0 win 65495 <mss 65495,...>
///         handshake 1/3: the client's connect() sends SYN and blocks
///
/// (on one line). Colour marks the phase on a terminal.
///
/// `--brief` is the projector's form: the addresses once, when a connection is first seen, then
/// per packet only its direction (`c→s`, client to server), the flags, seq/ack, len, win and the
/// step in a few words, no options:
///
///     21:30:32.123 #1 client 127.0.0.1:43994 → server 127.0.0.1:5000
///     21:30:32.123 #1 c→s [SYN] seq 0 len 0 win 65495  open 1/3
public final class TextRenderer: Renderer, TakesPacketNote {
    public let output: OutputBuffer
    private let palette: Palette
    let time: TimePrinter
    /// Words appended to the next packet's line, then cleared: each end's kernel state (`--kernel`).
    public var packetNote: String?
    /// `--brief`: short lines (80 columns for IPv4).
    public let brief: Bool
    /// Connections whose addresses a brief line has shown (removed when they end).
    private var introduced = Set<Int>()
    /// Whether TIME_WAIT's length has been explained: once per run, under the first teardown
    /// that leaves a side in it, not on every line.
    private var explainedTimeWait = false
    /// Recorded kernel events show each step once, as live `--kernel` does (a congestion
    /// window's samples only their changes).
    private var kernelLines = KernelLines()

    /// The note said once: the textbook's figure and the kernel's differ.
    static let timeWaitNote: StaticString = "   TIME_WAIT lasts 60 s on Linux (TCP_TIMEWAIT_LEN); RFC 9293's 2 x MSL is 4 min"

    public init(output: OutputBuffer, palette: Palette, timeFormat: TimeFormat, brief: Bool = false) {
        self.output = output
        self.palette = palette
        self.time = TimePrinter(format: timeFormat)
        self.brief = brief
        kernelLines.brief = brief
        time.milliseconds = brief
    }

    public func packet(_ tracked: TrackedPacket) {
        if brief { return briefPacket(tracked) }
        let out = output
        let packet = tracked.packet
        time.write(packet.time, out)
        out.ascii(" #")
        out.decimal(tracked.connection)
        out.byte(32)
        writeEndpoint(packet.source)
        out.ascii(" ")
        palette.direction(toServer: tracked.direction == .toServer, out)
        out.ascii("→")
        palette.reset(out)
        out.ascii(" ")
        writeEndpoint(packet.destination)
        out.ascii(" ")
        writeFlagsAndNumbers(tracked)
        if packet.tcp.flags.contains(.syn) {
            let options = packet.tcp.options.summary
            if !options.isEmpty { out.string(" <\(options)>") }
        }
        out.ascii("  ")
        palette.start(tracked.step, out)
        StepExplanation.write(tracked, into: out)
        endPacketLine()
        explainTimeWaitOnce(tracked)
    }

    private func explainTimeWaitOnce(_ tracked: TrackedPacket) {
        guard !explainedTimeWait, tracked.step == .teardownAck, tracked.timeWait != .none else { return }
        explainedTimeWait = true
        output.ascii(Self.timeWaitNote)
        output.endLine()
    }

    /// `127.0.0.1:5000` or `[::1]:5000`, as `Endpoint.description` spells it, without a String.
    private func writeEndpoint(_ endpoint: Endpoint) {
        let out = output
        if endpoint.address.isIPv6 { out.byte(91) }
        out.address(endpoint.address)
        if endpoint.address.isIPv6 { out.byte(93) }
        out.byte(58)
        out.decimal(endpoint.port)
    }

    /// The brief line: the connection's addresses first when it is new, then ports and numbers.
    private func briefPacket(_ tracked: TrackedPacket) {
        let out = output
        let packet = tracked.packet
        if introduced.insert(tracked.connection).inserted {
            time.write(packet.time, out)
            out.ascii(" #")
            out.decimal(tracked.connection)
            out.string(" client \(tracked.client) → server \(tracked.server)")
            out.endLine()
        }
        time.write(packet.time, out)
        out.ascii(" #")
        out.decimal(tracked.connection)
        out.byte(32)
        palette.direction(toServer: tracked.direction == .toServer, out)
        out.ascii(tracked.direction == .toServer ? "c→s" : "s→c")
        palette.reset(out)
        out.byte(32)
        writeFlagsAndNumbers(tracked, compactFlags: briefColumns(tracked) > 80)
        endPacketLine(tracked, words: tracked.step.shortName)
        explainTimeWaitOnce(tracked)
    }

    /// The columns a brief packet line takes with the flags spelt out. Past 80 (7-digit numbers
    /// of a bulk transfer), the flags are written as tcpdump's letters (`[FP.]`) instead.
    private func briefColumns(_ tracked: TrackedPacket) -> Int {
        func digits<T: BinaryInteger>(_ value: T) -> Int { String(value).count }
        let tcp = tracked.packet.tcp
        var columns = 12 + 2 + digits(tracked.connection) + 1 + 4   // "hh:mm:ss.mmm #N c→s "
        columns += 2 + tcp.flags.description.count
        columns += 5 + digits(tracked.relativeSequence)
        if tcp.flags.contains(.ack) { columns += 5 + digits(tracked.relativeAcknowledgement) }
        columns += 5 + digits(tcp.payloadLength) + 5 + (tracked.window.map(digits) ?? digits(tcp.window) + 1)
        return columns + 2 + tracked.step.shortName.count
    }

    /// `[S.] seq 0 ack 1 len 0 win 65483`, the part both lines share: the flags in the step's
    /// colour, the relative numbers (ack only when the ACK flag is set), the length and window.
    private func writeFlagsAndNumbers(_ tracked: TrackedPacket, compactFlags: Bool = false) {
        let out = output
        let flags = tracked.packet.tcp.flags
        palette.start(tracked.step, out)
        out.byte(91)   // [
        if compactFlags {
            out.string(flags.letters)
        } else {
            // `SYN,ACK` as TCPFlags.description spells it, from the static names.
            var first = true
            for (flag, name) in TCPFlags.names where flags.contains(flag) {
                if !first { out.byte(44) }
                first = false
                out.ascii(name)
            }
            if first { out.ascii("none") }
        }
        out.byte(93)   // ]
        palette.reset(out)
        out.ascii(" seq ")
        out.decimal(tracked.relativeSequence)
        if flags.contains(.ack) {
            out.ascii(" ack ")
            out.decimal(tracked.relativeAcknowledgement)
        }
        writeLengthAndWindow(tracked)
    }

    /// The end of a packet line, full or brief: what the step means, in its colour, then the
    /// kernel's note (each end's state) when `--kernel` gave one.
    private func endPacketLine(_ tracked: TrackedPacket, words: String) {
        let out = output
        out.ascii("  ")
        palette.start(tracked.step, out)
        out.string(words)
        endPacketLine()
    }

    /// Ends the words' colour, adds the kernel's note, ends the line.
    private func endPacketLine() {
        let out = output
        palette.reset(out)
        if let note = packetNote {
            out.string(note)
            packetNote = nil
        }
        out.endLine()
    }

    /// ` len L win W`: the window scaled, or the raw field and `?` before the handshake said how.
    private func writeLengthAndWindow(_ tracked: TrackedPacket) {
        let out = output
        let tcp = tracked.packet.tcp
        out.ascii(" len ")
        out.decimal(tcp.payloadLength)
        out.ascii(" win ")
        if let window = tracked.window {
            out.decimal(window)
        } else {
            out.decimal(tcp.window)
            out.byte(63)   // "?": the raw field; its scale is unknown without the handshake
        }
    }

    /// A recorded system call or output line, as the lessons show them: the program's label,
    /// then the call strace-style with its duration, or the line it printed.
    ///
    ///     21:42:22.604990 [client] connect(fd 3, 127.0.0.1:35047) -> 0 <0.000102>
    ///     21:42:22.605250 [server] server Connected by 127.0.0.1:39102
    ///     21:42:22.605300 [link] ✗ s→c lost (rule) 10.77.0.2:5000 → 10.77.0.1:40412 [SYN,ACK] seq 1160983878 len 0
    ///
    /// A recorded kernel event (`captures/record` ran `--kernel`) is shown as live `--kernel` shows it:
    ///
    ///     21:42:22.604950 [kernel] 127.0.0.1:44806 CLOSE → SYN_SENT (connect(): the SYN goes out next)
    ///
    /// `--brief`'s form of a recorded call: the errno's name without its sentence
    /// (`-> ECONNREFUSED <0.000185>`), and a string argument over 24 characters cut to its start
    /// (`"python3 examples/python/…"`: execve's command lines), as brief packet lines leave out
    /// the TCP options. The full form keeps every byte.
    /// An execve shows its command line as typed, `execve(python3 examples/python/client.py …)`.
    static func briefCall(_ text: String) -> String {
        var result = text.replacingOccurrences(of: #"-> (E[A-Z0-9]+) \([^()]*\)"#, with: "-> $1", options: .regularExpression)
        if result.hasPrefix("execve("), let open = result.firstIndex(of: "["), let close = result[open...].firstIndex(of: "]") {
            let words = result[open..<close].split(separator: "\"", omittingEmptySubsequences: false)
                .enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            var line = words.joined(separator: " ")
            if line.count > 40 { line = String(line.prefix(39)) + "…" }
            let rest = result[close...].drop { $0 != ")" }
            return "execve(" + line + rest
        }
        result = result.replacingOccurrences(of: #""([^"\\]{24})[^"]{2,}""#, with: "\"$1…\"", options: .regularExpression)
        return result
    }

    /// What a program's event says after its `[label]`: a call strace-style with its duration,
    /// or the half of it this event is; the line it printed; how it ended. Nil for other types.
    /// The ladder draws the same words in the program's lane (LadderRenderer).
    static func programText(_ event: TimelineEvent) -> String? {
        guard let text = event.string("text") else { return nil }
        switch event.type {
        case "syscall":
            // A call shown in two halves (it spans other lines): `connect(...) ...`, `... connect() -> 0 <d>`.
            switch event.string("part") {
            case "start": return TimelineMerge.startText(text)
            case "return": return TimelineMerge.returnText(text) + " " + Clock.spanSuffix(event.duration ?? 0)
            default: return text + " " + Clock.spanSuffix(event.duration ?? 0)
            }
        case "exit": return text
        case "output": return event.string("stream") == "stderr" ? "(stderr) " + text : text
        default: return nil
        }
    }

    /// Types without a text form here are skipped.
    public func event(_ event: TimelineEvent) {
        var text: String
        switch event.type {
        case "syscall", "exit", "output":
            guard let line = Self.programText(event) else { return }
            text = line
            if brief && event.type == "syscall", let call = event.string("text") {
                // Brief: a write(2) to stdout or stderr is shown as the line it printed (the next event).
                if call.hasPrefix("write(fd 1,") || call.hasPrefix("write(fd 2,") { return }
                text = Self.briefCall(text)
            }
        case "link-drop":
            // lab-link lost a packet on purpose: `[link] ✗ s→c lost (rule) ...` where it happened.
            guard let line = brief ? event.linkDropBriefText : event.linkDropText else { return }
            text = line
        default:
            guard let recorded = KernelEvent(event), let line = kernelLines.next(recorded) else { return }
            let out = output
            time.write(Timestamp(seconds: Int(event.time.seconds), fraction: Int(event.time.fraction), isNanosecond: false), out)
            out.ascii(" ")
            out.untrusted(line.text)   // a sidecar's reason or address is a file's text
            out.endLine()
            if let note = line.note {
                out.string(note)
                out.endLine()
            }
            return
        }
        let out = output
        time.write(Timestamp(seconds: Int(event.time.seconds), fraction: Int(event.time.fraction), isNanosecond: false), out)
        out.ascii(" ")
        palette.dim(out)
        out.ascii("[")
        out.untrusted(event.label ?? (event.type == "link-drop" ? "link" : "?"))
        out.ascii("] ")
        palette.reset(out)
        out.untrusted(text)   // recorded text: a file's, so no control character reaches the terminal
        out.endLine()
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        let out = output
        palette.bold(out)
        out.ascii("  = ")
        if brief {
            introduced.remove(summary.connection)
            out.string(StepExplanation.briefSummary(summary))
        } else {
            out.string(StepExplanation.summary(summary))
        }
        palette.reset(out)
        out.endLine()
    }

    public func finish(_ stats: CaptureStats) {
        output.flush()
    }
}
