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

/// Why a connection that waited in the accept queue was reset, when recorded system calls show it.
public enum ResetCause: String, Sendable {
    /// The listening socket was closed while the connection was still queued, never accepted.
    case listenerClosed = "listener-closed"
    /// close() on a socket with SO_LINGER set to 0 seconds.
    case lingerZero = "linger-zero"
}
