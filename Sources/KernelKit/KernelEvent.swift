import SocketCore

/// One thing the kernel reported: a state change, a reset, a retransmitted SYN-ACK or segment, an accept
/// queue's new length, a counter's change, a congestion window. One type for every kernel source, each with a `time`
/// on CLOCK_REALTIME so it sorts with packets and system calls (EVENTS.md's schema).
public struct KernelEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `sock:inet_sock_set_state`, or sock_diag for TIME_WAIT (the tracepoint never reports it).
        case state(from: TCPState, to: TCPState, source: Source)
        /// `tcp:tcp_send_reset`: the kernel sent RST, with its reason (`NO_SOCKET`).
        case resetSent(reason: String)
        /// `tcp:tcp_receive_reset`: a RST arrived for the socket.
        case resetReceived
        /// `tcp:tcp_retransmit_synack`: the listener sent its SYN-ACK again (the ACK did not come).
        case synackRetransmit
        /// `tcp:tcp_retransmit_skb`: the socket sent a segment again (its retransmission timer,
        /// a tail loss probe, or fast retransmit after duplicate ACKs / SACK).
        case retransmit
        /// sock_diag: the listener's accept queue changed length (`idiag_rqueue`/`idiag_wqueue`).
        case acceptQueue(queued: Int, backlog: Int)
        /// `/proc/net/netstat`: a TcpExt counter changed (per network namespace, not per socket).
        case counter(name: String, delta: Int64, total: Int64)
        /// `tcp:tcp_probe`: the socket's congestion window, ssthresh and srtt as a segment
        /// arrived (kept only when they changed: `ProbeThinner`).
        case probe(TCPProbe)
    }

    /// Where a state change was seen.
    public enum Source: String, Sendable {
        case tracepoint
        case sockDiag = "sock_diag"
    }

    public var time: EpochTime
    public var kind: Kind
    /// The socket the event is about (its own address and port); empty for counters.
    public var local: String
    public var localPort: Int
    public var remote: String
    public var remotePort: Int
    /// handshake-watch's connection number, when the event belongs to a tracked connection.
    public var connection: Int?

    public init(time: EpochTime, kind: Kind, local: String = "", localPort: Int = 0,
                remote: String = "", remotePort: Int = 0, connection: Int? = nil) {
        self.time = time
        self.kind = kind
        self.local = local
        self.localPort = localPort
        self.remote = remote
        self.remotePort = remotePort
        self.connection = connection
    }

    /// EVENTS.md's `type`.
    public var type: String {
        switch kind {
        case .state: "state"
        case .resetSent: "reset-sent"
        case .resetReceived: "reset-received"
        case .synackRetransmit: "synack-retransmit"
        case .retransmit: "retransmit"
        case .acceptQueue: "accept-queue"
        case .counter: "counter"
        case .probe: "tcp-probe"
        }
    }

    /// True for events about one socket's addresses (everything but counters).
    public var hasAddresses: Bool {
        if case .counter = kind { return false }
        return true
    }
}
