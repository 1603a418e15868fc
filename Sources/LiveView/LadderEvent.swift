import SocketCore
/// One timeline event, reduced to what the ladder draws. Each case is one `type` of the shared
/// event schema (EVENTS.md); types the ladder does not draw have no case.
public enum LadderEvent: Sendable, Equatable {
    /// `packet`: a TCP segment, one arrow.
    case packet(Segment)
    /// `syscall`: a system call, a bar from `time` to `time + duration` beside its process's end.
    case syscall(SystemCall)
    /// `state`: a socket's TCP state changed (tracepoint `sock:inet_sock_set_state`, or sock_diag).
    case state(StateChange)
    /// `connection`: the summary handshake-watch writes when a connection ends.
    case connection(Summary)
    /// `link-drop`: lab-link lost this packet on purpose; an arrow that ends halfway, in ✗.
    case linkDrop(LostPacket)
    /// `reset-sent`, `reset-received`: the socket at `local` sent or received a RST. Not drawn; it
    /// tells its `→ CLOSE` from a timewait takeover (`TimeWaitTakeover`).
    case reset(local: SocketAddress, remote: SocketAddress)

    /// A `link-drop` event: the packet's addresses, TCP flags and raw sequence number, and why.
    public struct LostPacket: Sendable, Equatable {
        public var time: Double
        public var source: SocketAddress
        public var destination: SocketAddress
        public var flags: [String]
        public var sequence: UInt32?
        public var length: Int
        /// `rule`, `loss` or `queue`.
        public var reason: String

        public init(time: Double, source: SocketAddress, destination: SocketAddress, flags: [String],
                    sequence: UInt32?, length: Int, reason: String) {
            self.time = time
            self.source = source
            self.destination = destination
            self.flags = flags
            self.sequence = sequence
            self.length = length
            self.reason = reason
        }
    }

    /// A `packet` event: addresses, flags and the raw (absolute) sequence numbers of the wire.
    public struct Segment: Sendable, Equatable {
        public var time: Double
        public var source: SocketAddress
        public var destination: SocketAddress
        /// `["SYN","ACK"]`, in the order of the TCP header's bits, as the JSON lists them.
        public var flags: [String]
        public var sequence: UInt32
        public var acknowledgement: UInt32
        public var length: Int
        public var connection: Int
        /// handshake-watch's step name: `handshake-syn`, `data`, `fin-active`, `rst`...
        public var step: String
        /// The TCP analysis's names (`["duplicate-ack"]`), the dup ACK's number and, for a
        /// retransmission, milliseconds since the first copy (EVENTS.md, "TCP analysis").
        public var analysis: [String] = []
        public var duplicateAck: Int?
        /// `dup_acks_before`: the duplicate ACKs that asked for a fast retransmission.
        public var duplicateAcksBefore: Int?
        public var sinceOriginalMilliseconds: Double?

        public init(time: Double, source: SocketAddress, destination: SocketAddress, flags: [String],
                    sequence: UInt32, acknowledgement: UInt32, length: Int, connection: Int, step: String) {
            self.time = time
            self.source = source
            self.destination = destination
            self.flags = flags
            self.sequence = sequence
            self.acknowledgement = acknowledgement
            self.length = length
            self.connection = connection
            self.step = step
        }
    }

    /// A `syscall` span of a traced process (`--trace`).
    public struct SystemCall: Sendable, Equatable {
        public var time: Double
        public var duration: Double
        public var label: String
        public var pid: Int
        /// The call's name: `connect`, `accept`, `recv`...
        public var call: String
        /// The trace line without its time stamp: `connect(fd 3, 127.0.0.1:5000) -> 0`.
        public var text: String

        public init(time: Double, duration: Double, label: String, pid: Int, call: String, text: String) {
            self.time = time
            self.duration = duration
            self.label = label
            self.pid = pid
            self.call = call
            self.text = text
        }
    }

    /// A `state` event: the socket at `local` (talking to `remote`) went from `from` to `to`.
    public struct StateChange: Sendable, Equatable {
        public var time: Double
        public var local: SocketAddress
        public var remote: SocketAddress
        public var from: String
        public var to: String
        public var connection: Int?
        /// `tracepoint` or `sock_diag`, when the event says.
        public var source: String?

        public init(time: Double, local: SocketAddress, remote: SocketAddress, from: String, to: String,
                    connection: Int?, source: String? = nil) {
            self.time = time
            self.local = local
            self.remote = remote
            self.from = from
            self.to = to
            self.connection = connection
            self.source = source
        }
    }

    /// A `connection` event: who was client and server, and how it ended.
    public struct Summary: Sendable, Equatable {
        public var connection: Int
        /// `"127.0.0.1:39102"`, `"[::1]:39102"`.
        public var client: String
        public var server: String
        /// handshake-watch's outcome: `closed`, `refused`, `reset`, `no-answer`...
        public var outcome: String
        /// Zeek's `conn_state` (`SF`, `REJ`, `S0`...), when the kernel events of issue 8 gave it.
        public var connState: String?

        public init(connection: Int, client: String, server: String, outcome: String, connState: String?) {
            self.connection = connection
            self.client = client
            self.server = server
            self.outcome = outcome
            self.connState = connState
        }
    }
}
