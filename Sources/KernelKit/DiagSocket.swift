/// One socket of the kernel's table, as NETLINK_SOCK_DIAG describes it (`struct inet_diag_msg`).
public struct DiagSocket: Sendable, Equatable {
    public var state: TCPState
    public var local: String
    public var localPort: Int
    public var remote: String
    public var remotePort: Int
    /// TIME_WAIT and SYN_RECV: milliseconds left on the socket's timer (`idiag_expires`).
    public var expiresMilliseconds: Int
    /// LISTEN: connections in the accept queue (`idiag_rqueue`); others: bytes unread.
    public var receiveQueue: Int
    /// LISTEN: the backlog (`idiag_wqueue`); others: bytes unsent.
    public var sendQueue: Int

    public init(state: TCPState, local: String, localPort: Int, remote: String, remotePort: Int,
                expiresMilliseconds: Int, receiveQueue: Int, sendQueue: Int) {
        self.state = state
        self.local = local
        self.localPort = localPort
        self.remote = remote
        self.remotePort = remotePort
        self.expiresMilliseconds = expiresMilliseconds
        self.receiveQueue = receiveQueue
        self.sendQueue = sendQueue
    }
}
