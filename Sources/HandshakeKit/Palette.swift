@preconcurrency import Glibc

/// ANSI colours, used only on a terminal (`isatty`) without `--no-color` or `NO_COLOR`.
public struct Palette: Sendable {
    public var enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// True when stdout is a terminal and neither `--no-color` nor a non-empty NO_COLOR says no.
    public static func wanted(noColorFlag: Bool) -> Bool {
        if noColorFlag { return false }
        if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
        return isatty(STDOUT_FILENO) == 1
    }

    func colour(for step: Step) -> StaticString {
        switch step {
        case .handshakeSyn, .handshakeSynAck, .handshakeAck: return "\u{1B}[32m"   // green
        case .synRetransmit, .synAckRetransmit: return "\u{1B}[35m"                // magenta
        case .data: return "\u{1B}[36m"                                            // cyan
        case .ack: return "\u{1B}[2m"                                              // dim
        case .finActive, .finPassive, .teardownAck: return "\u{1B}[33m"            // yellow
        case .rst: return "\u{1B}[31m"                                             // red
        case .midstream: return "\u{1B}[34m"                                       // blue
        }
    }

    func start(_ step: Step, _ out: OutputBuffer) {
        if enabled { out.ascii(colour(for: step)) }
    }

    func bold(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[1m") }
    }

    /// Dim: the label of a recorded event's line.
    func dim(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[2m") }
    }

    func reset(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[0m") }
    }
}
