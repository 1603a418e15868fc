/// What the table knew about a connection when it ended.
public struct ConnectionSummary: Sendable {
    public var connection: Int
    /// When its last packet was captured: the summary's `time` in JSON (EVENTS.md).
    public var lastPacketTime: Timestamp
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
    /// Zeek's outcome code and history string (see `ZeekConnState`, `ZeekHistory`).
    public var connState: ZeekConnState = .OTH
    public var history: String = ""
    /// The kernel's states each end went through (`--kernel`), oldest first; empty without it.
    public var clientStates: [String] = []
    public var serverStates: [String] = []
    /// The TCP analysis's counts, both directions together: segments sent again (by timeout,
    /// fast or spurious) and their bytes, duplicate ACKs, the time a side advertised a zero
    /// window, and the most timeouts in a row for one segment (the RTO back-off, RFC 6298 §5.5).
    public var retransmittedSegments = 0
    public var retransmittedBytes: UInt64 = 0
    public var duplicateAcks = 0
    public var zeroWindowSeconds = 0.0
    public var highestBackoff = 0
    /// The TIME_WAIT timer the kernel set for this connection's 4-tuple, seconds (`--kernel`).
    public var timeWaitSeconds: Double?
}

/// How a connection ended (or had not yet, when the capture stopped).
public enum Outcome: String, Sendable {
    /// Both FINs sent and acknowledged.
    case closed
    /// RST answered the SYN.
    case refused
    /// Aborted by RST after the handshake began.
    case reset
    /// The SYN was sent again and again, nothing came back.
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

/// Who closed first (or how the connection ended). Raw values are the JSON `closed_by` values.
public enum ClosedBy: String, Sendable {
    case client, server, both, reset, open
}

/// Which side is in TIME_WAIT after the teardown (2 × MSL, 60 s on Linux, so that stray segments
/// of the old connection cannot be mistaken for a new one). Raw values are the JSON values.
public enum TimeWait: String, Sendable {
    case client, server, both, none
}
