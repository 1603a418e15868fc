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

/// Which way a segment travels.
public enum Direction: Sendable {
    case toServer
    case toClient
}

/// One of the two ends of a connection.
public enum Side: String, Sendable {
    case client
    case server
}

/// What a reset usually means, judged from the connection's state when it arrives.
public enum ResetMeaning: Sendable {
    /// RST answering a SYN: nothing listens on that port, connect() fails with ECONNREFUSED.
    case refused
    /// RST during the handshake from the client's side.
    case abortedHandshake
    /// RST instead of FIN on an open connection: close() with SO_LINGER 0, or close() with
    /// unread data still in the receive buffer.
    case abortiveClose
    /// RST from a side that had already sent its FIN: data arrived after it called close().
    case dataAfterClose
    /// RST for a connection we never saw begin.
    case unknownConnection
    /// RST answering a segment that arrived after the connection was over: the kernel has no
    /// socket for it any more.
    case lateSegment
}

/// How a connection ended (or had not yet, when the capture stopped).
public enum Outcome: String, Sendable {
    /// Both FINs sent and acknowledged.
    case closed
    /// RST answered the SYN.
    case refused
    /// Aborted by RST after the handshake began.
    case reset
    /// SYNs went out, nothing came back.
    case noAnswer = "no-answer"
    /// One side sent FIN, the other is still open.
    case halfClosed = "half-closed"
    /// Both FINs sent, the last ACK not seen yet.
    case closing
    /// Still open when the capture ended.
    case open
    /// Dropped from the table to keep memory bounded (idle longest).
    case evicted
}

/// A packet as the tracker saw it: which connection, which step, sequence numbers made relative
/// to each side's initial sequence number (as Wireshark shows them), and the context the
/// explanation needs.
public struct TrackedPacket: Sendable {
    public var packet: Packet
    /// Connection number, from 1 in order of first packet.
    public var connection: Int
    public var step: Step
    public var direction: Direction
    public var relativeSequence: UInt32
    public var relativeAcknowledgement: UInt32
    /// For retransmissions: seconds since the previous copy, and which copy this is (2 = first retry).
    public var retransmitGap: Double = 0
    public var retransmitCount = 0
    /// For handshake-ack: SYN to this ACK, in seconds.
    public var handshakeRTT: Double?
    /// For rst.
    public var resetMeaning: ResetMeaning?
    /// Data sent after the other side's FIN (half-close).
    public var afterPeerFin = false
    /// This segment acknowledges the other side's FIN (for the first FIN: the closer now waits
    /// in FIN_WAIT_2, the other side sits in CLOSE_WAIT until it calls close()).
    public var acknowledgesFin = false
    /// For fin-passive: the two FINs crossed (simultaneous close).
    public var simultaneousClose = false
    /// For teardown-ack: who is left in TIME_WAIT.
    public var timeWait: TimeWait = .none
    /// Where the client and server are.
    public var client: Endpoint
    public var server: Endpoint
}

/// Who closed first (or how the connection ended). Raw values are the JSON `closed_by` values.
public enum ClosedBy: String, Sendable {
    case client, server, both, reset, open
}

/// Which side is in TIME_WAIT after the teardown (2 × MSL, 60 s on Linux, so that stray segments
/// of the old connection cannot be mistaken for a new one). Raw values are the JSON values.
public enum TimeWait: String, Sendable {
    case client, server, both, none
}

/// What the table knew about a connection when it ended.
public struct ConnectionSummary: Sendable {
    public var connection: Int
    public var client: Endpoint
    public var server: Endpoint
    /// SYN to the third ACK (Wireshark's iRTT), in seconds; nil when the handshake was not seen.
    public var handshakeRTT: Double?
    public var bytesToServer: UInt64
    public var bytesToClient: UInt64
    public var closedBy: ClosedBy
    public var timeWait: TimeWait
    public var outcome: Outcome
    public var resetMeaning: ResetMeaning?
    /// First to last packet, in seconds.
    public var duration: Double
    public var packets: Int
    /// The connection was already open when the capture began.
    public var midstream: Bool
    /// SYN copies beyond the first.
    public var synRetransmits: Int
}
