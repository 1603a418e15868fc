/// Zeek's `conn_state`: how a connection went, in one code, computed as Zeek's `conn_state()`
/// does from what each end was last seen to do.
public enum ZeekConnState: String, Sendable, CaseIterable {
    case S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH

    /// The code explained, for the text summary: `SF: opened and closed normally`.
    public var meaning: String {
        switch self {
        case .S0: "attempt seen, no reply"
        case .S1: "established, not closed"
        case .SF: "opened and closed normally"
        case .REJ: "attempt rejected"
        case .S2: "established, the client closed, no reply from the server"
        case .S3: "established, the server closed, no reply from the client"
        case .RSTO: "established, the client aborted with RST"
        case .RSTR: "the server sent RST"
        case .RSTOS0: "the client sent SYN then RST, no SYN-ACK"
        case .RSTRH: "the server sent SYN-ACK then RST, no SYN seen"
        case .SH: "the client sent SYN then FIN, no SYN-ACK"
        case .SHR: "the server sent SYN-ACK then FIN, no SYN seen"
        case .OTH: "no SYN seen, mid-stream traffic"
        }
    }
}

/// What each end of a connection was last seen doing, as Zeek's TCP analyzer tracks it
/// (TCP_INACTIVE, TCP_SYN_SENT, ...), and the `conn_state` code it leads to.
struct ZeekEndpoints {
    enum State { case inactive, synSent, synAckSent, partial, established, closed, reset }
    var originator = State.inactive
    var responder = State.inactive

    mutating func record(_ tcp: TCPSegment, fromOriginator: Bool) {
        var (sender, peer) = fromOriginator ? (originator, responder) : (responder, originator)
        let flags = tcp.flags
        if flags.contains(.rst) {
            sender = .reset
        } else {
            if flags.contains(.syn) {
                if flags.contains(.ack) {
                    if sender == .inactive || sender == .synSent { sender = .synAckSent }
                } else if sender == .inactive {
                    sender = .synSent
                }
            } else if flags.contains(.ack) || tcp.payloadLength > 0 {
                if sender == .inactive { sender = .partial }
                let senderOpening = sender == .synSent || sender == .synAckSent
                if senderOpening && (peer == .synSent || peer == .synAckSent || peer == .established) {
                    sender = .established
                    if peer == .synAckSent || peer == .synSent { peer = .established }
                }
            }
            if flags.contains(.fin) && sender != .reset { sender = .closed }
        }
        if fromOriginator { (originator, responder) = (sender, peer) } else { (responder, originator) = (sender, peer) }
    }

    /// Zeek's `conn_state()` (base/protocols/conn/main.zeek), case for case.
    func code(history: String, originatorBytes: UInt64, responderBytes: UInt64) -> ZeekConnState {
        let (os, rs) = (originator, responder)
        let originatorInactive = os == .inactive || os == .partial
        let responderInactive = rs == .inactive || rs == .partial
        if rs == .reset {
            if os == .synSent || os == .synAckSent || (os == .reset && originatorBytes == 0 && responderBytes == 0) { return .REJ }
            return originatorInactive ? .RSTRH : .RSTR
        }
        if os == .reset {
            if responderInactive { return Self.synThenReset(history) ? .RSTOS0 : .OTH }
            return .RSTO
        }
        if rs == .closed && os == .closed { return .SF }
        if os == .closed { return responderInactive ? .SH : .S2 }
        if rs == .closed { return originatorInactive ? .SHR : .S3 }
        if os == .synSent && rs == .inactive { return .S0 }
        if os == .established && rs == .established { return .S1 }
        return .OTH
    }

    /// Zeek's `/\^?S[^HAFGIQ]*R.*/`: the originator's SYN, then its RST with no handshake between.
    static func synThenReset(_ history: String) -> Bool {
        var rest = Substring(history)
        if rest.first == "^" { rest = rest.dropFirst() }
        guard rest.first == "S" else { return false }
        for letter in rest.dropFirst() {
            if letter == "R" { return true }
            if "HAFGIQ".contains(letter) { return false }
        }
        return false
    }
}
