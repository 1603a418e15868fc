import Timeline

/// What a segment does in the life of its connection. The raw values are the `step` names of the
/// JSON output.
public enum Step: String, Sendable, CaseIterable {
    /// 1/3: the client's connect() sent SYN and blocks.
    case handshakeSyn = "handshake-syn"
    /// 2/3: the server's kernel answers from the listen queue; accept() is not involved.
    case handshakeSynAck = "handshake-syn-ack"
    /// 3/3: connect() returns; the connection waits in the accept queue for accept().
    case handshakeAck = "handshake-ack"
    /// The same SYN again: nobody answered in time (full backlog, or nothing there at all).
    case synRetransmit = "syn-retransmit"
    /// The same SYN-ACK again: the client's ACK did not arrive (or was dropped by a full accept queue).
    case synAckRetransmit = "syn-ack-retransmit"
    /// A segment carrying payload bytes: a send() on one side, a recv() to come on the other.
    case data
    /// A pure acknowledgement.
    case ack
    /// Data sent again: a retransmission by timeout, a fast or a spurious retransmission.
    case retransmit
    /// The same ACK again: the receiver holds bytes beyond a hole and still waits for the hole.
    case dupAck = "dup-ack"
    /// A question, not data: a zero-window probe (persist timer) or a keep-alive (SO_KEEPALIVE).
    case probe
    /// The first FIN of the connection: that side called close() or shutdown(SHUT_WR).
    case finActive = "fin-active"
    /// The other side's FIN: its recv() returned 0 and it closed too.
    case finPassive = "fin-passive"
    /// The ACK of the last FIN: the connection is over, the active closer waits in TIME_WAIT.
    case teardownAck = "teardown-ack"
    /// A reset: the connection is aborted (refused, SO_LINGER 0, data after close...).
    case rst
    /// The first packet seen of a connection that was open before the capture started.
    case midstream
}

extension Step {
    /// The step in a few words, for `--brief` lines that must fit a projector's 80 columns: the
    /// wording table's `brief` (StepWording), shared with the other renderers.
    public var shortName: String { StepWording.words(rawValue).brief }
}

/// Which way a segment travels.
public enum Direction: Sendable {
    case toServer
    case toClient
}


