/// What a kernel event means, in the words of the lessons: which call or segment moved the socket.
enum StateMeaning {
    static func text(from: TCPState, to: TCPState) -> String {
        switch (from, to) {
        case (.close, .synSent): return "connect(): the SYN goes out next"
        case (.close, .listen): return "listen(): the kernel now answers SYNs on this port"
        case (.synSent, .established): return "the SYN-ACK arrived; connect() returns"
        case (.synSent, .close): return "connect() failed: refused or timed out"
        case (.listen, .synRecv): return "a child socket, cloned from the listener, at the handshake's ACK"
        case (.synRecv, .established): return "the handshake is complete; the socket waits in the accept queue"
        case (.established, .finWait1): return "close() or shutdown(): our FIN goes out"
        case (.established, .closeWait): return "the peer's FIN arrived; recv() returns 0"
        case (.finWait1, .finWait2): return "our FIN is acknowledged; waiting for the peer's FIN"
        case (.finWait1, .closing): return "both sides sent FIN at once"
        case (.finWait2, .timeWait), (.finWait1, .timeWait):
            return "the peer's FIN arrived; the 4-tuple is held so late segments are not misread"
        case (.closing, .timeWait):
            return "our FIN is acknowledged; the 4-tuple is held so late segments are not misread"
        case (.closeWait, .lastAck): return "close(): our FIN goes out after the peer's"
        case (.lastAck, .close): return "our FIN is acknowledged: the connection is gone"
        case (.listen, .close): return "the listening socket is closed"
        case (_, .close): return "the socket is gone"
        default: return "state change"
        }
    }

    static func resetReason(_ reason: String) -> String {
        switch reason {
        case "NO_SOCKET": return "no socket matched the segment: nothing listens there"
        case "TCP_ABORT_ON_CLOSE": return "close() with unread data"
        case "TCP_ABORT_ON_LINGER": return "close() with SO_LINGER 0"
        case "TCP_ABORT_ON_DATA": return "data arrived after close()"
        case "TCP_TIMEWAIT_SOCKET": return "a segment hit a TIME_WAIT socket"
        case "TCP_INVALID_ACK_SEQUENCE": return "the ACK number was out of window"
        case "NOT_SPECIFIED": return "no reason given"
        default: return "see enum sk_rst_reason"
        }
    }
}
