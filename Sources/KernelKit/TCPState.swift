/// The kernel's TCP states (`include/net/tcp_states.h`), named as the kernel names them without
/// the `TCP_` prefix. The raw values are the kernel's, as sock_diag and the tracepoints carry them.
public enum TCPState: Int, Sendable, CaseIterable, CustomStringConvertible {
    case established = 1, synSent, synRecv, finWait1, finWait2, timeWait, close, closeWait, lastAck,
         listen, closing, newSynRecv

    /// `SYN_SENT`, `TIME_WAIT`, ...
    public var description: String {
        switch self {
        case .established: "ESTABLISHED"
        case .synSent: "SYN_SENT"
        case .synRecv: "SYN_RECV"
        case .finWait1: "FIN_WAIT1"
        case .finWait2: "FIN_WAIT2"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .listen: "LISTEN"
        case .closing: "CLOSING"
        case .newSynRecv: "NEW_SYN_RECV"
        }
    }

    /// Reads the tracepoint's `TCP_SYN_SENT` or the bare `SYN_SENT`.
    public init?(name: Substring) {
        let bare = name.hasPrefix("TCP_") ? name.dropFirst(4) : name
        guard let state = TCPState.allCases.first(where: { $0.description == bare }) else { return nil }
        self = state
    }

    /// The bit of this state in sock_diag's `idiag_states` mask.
    var diagBit: UInt32 { 1 << UInt32(rawValue) }
}
