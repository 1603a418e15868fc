import Timeline

/// The text output as the lesson runner asks for it: each line in two forms on one line, the
/// projector's (`--brief`) and the whole one, joined by the byte 0x1E (ASCII's Record Separator):
///
///     21:30:32.123 #1 c→s [SYN] seq 0 len 0 win 65495  open 1/3␞21:30:32.123456 #1 127.0.0.1:43994 → ...  handshake 1/3: ...
///
/// The runner shows the class the part before the separator (80 columns) and checks the part
/// after it (the whole sentence its expectations name, the microseconds its timelines merge
/// by): one capture, read two ways, so what is shown and what is checked are the same packets.
///
/// Either part may be empty: the brief form's line of addresses has no whole twin, and the whole
/// form's note on TIME_WAIT has no brief one. Each call's lines are paired in the order they came,
/// so each part, read alone, is exactly what `--brief` and the plain form print.
///
/// Only the runner asks for it (`LinesForm.paired`, from `SOCKETTUTOR_LINES=paired`); a person
/// typing the lesson's command gets the whole lines.
public final class PairedLinesRenderer: Renderer, TakesPacketNote {
    /// Where the paired lines go.
    public let output: OutputBuffer
    private let brief: TextRenderer
    private let whole: TextRenderer
    private let briefLines = CollectedLines()
    private let wholeLines = CollectedLines()

    /// `palette` colours the brief form, which the class sees; the whole form is read, not shown.
    public init(output: OutputBuffer, palette: Palette, timeFormat: TimeFormat) {
        self.output = output
        brief = TextRenderer(output: OutputBuffer(lines: { [briefLines] in briefLines.lines.append($0) }),
                             palette: palette, timeFormat: timeFormat, brief: true)
        whole = TextRenderer(output: OutputBuffer(lines: { [wholeLines] in wholeLines.lines.append($0) }),
                             palette: Palette(enabled: false), timeFormat: timeFormat)
    }

    /// `--kernel`'s states for the next packet line, given to both forms.
    public var packetNote: String? {
        get { whole.packetNote }
        set { brief.packetNote = newValue; whole.packetNote = newValue }
    }

    public func packet(_ tracked: TrackedPacket) {
        brief.packet(tracked)
        whole.packet(tracked)
        writePairs()
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        brief.connectionEnded(summary)
        whole.connectionEnded(summary)
        writePairs()
    }

    public func event(_ event: TimelineEvent) {
        brief.event(event)
        whole.event(event)
        writePairs()
    }

    public func finish(_ stats: CaptureStats) {
        output.flush()
    }

    /// Writes one kernel line (`KernelRenderer`) in its two forms.
    public func pair(brief briefText: String, whole wholeText: String) {
        output.string(briefText)
        output.byte(LinesForm.separator)
        output.string(wholeText)
        output.endLine()
    }

    /// The lines both forms made for one call, side by side.
    private func writePairs() {
        let (shown, kept) = (briefLines.take(), wholeLines.take())
        for index in 0..<max(shown.count, kept.count) {
            if index < shown.count { output.bytes(shown[index]) }
            output.byte(LinesForm.separator)
            if index < kept.count { output.bytes(kept[index]) }
            output.endLine()
        }
    }
}

/// The lines an `OutputBuffer(lines:)` made since they were last taken.
private final class CollectedLines {
    var lines: [[UInt8]] = []

    func take() -> [[UInt8]] {
        defer { lines.removeAll(keepingCapacity: true) }
        return lines
    }
}

/// A renderer whose packet lines can carry `--kernel`'s note on each end's state.
protocol TakesPacketNote: AnyObject {
    var packetNote: String? { get set }
}
