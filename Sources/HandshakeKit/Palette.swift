@preconcurrency import Glibc
import SocketCore

/// `--color`: always, never, or auto (a terminal, and NO_COLOR unset), as GNU ls and grep spell it.
public enum ColorMode: String, Sendable, CaseIterable {
    case always, auto, never
}

/// ANSI colours, used only on a terminal (`isatty`) without `--no-color` or `NO_COLOR`,
/// or whenever `--color always` asks (the lesson runner, which strips them before matching).
public struct Palette: Sendable {
    public var enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// `always` and `never` say it; `auto` is true when stdout is a terminal and no non-empty
    /// NO_COLOR says no (https://no-color.org).
    public static func wanted(_ mode: ColorMode) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto: break
        }
        if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
        return Syscall.isTerminal(STDOUT_FILENO)
    }

    func colour(for step: Step) -> StaticString {
        switch step {
        case .handshakeSyn, .handshakeSynAck, .handshakeAck: return "\u{1B}[32m"   // green
        case .synRetransmit, .synAckRetransmit: return "\u{1B}[35m"                // magenta
        case .data: return "\u{1B}[36m"                                            // cyan
        case .ack: return "\u{1B}[37m"                                             // white: never dim, a projector washes dim out
        case .retransmit, .dupAck, .probe: return "\u{1B}[35m"                    // magenta
        case .finActive, .finPassive, .teardownAck: return "\u{1B}[33m"            // yellow
        case .rst: return "\u{1B}[31m"                                             // red
        case .midstream: return "\u{1B}[34m"                                       // blue
        }
    }

    func start(_ step: Step, _ out: OutputBuffer) {
        if enabled { out.ascii(colour(for: step)) }
    }

    /// Which way a packet goes, in a colour as well as an arrow (a projector's back row reads
    /// colour before small glyphs): client to server bold bright cyan, server to client bold
    /// bright yellow.
    func direction(toServer: Bool, _ out: OutputBuffer) {
        if enabled { out.ascii(toServer ? "\u{1B}[1;96m" : "\u{1B}[1;93m") }
    }

    func bold(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[1m") }
    }

    /// The label of a recorded event's line, set apart from the packets in blue rather than
    /// dim (SGR 2), which a projector washes out.
    func dim(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[94m") }
    }

    func reset(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[0m") }
    }
}
