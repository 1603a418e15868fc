/// What `tcp:tcp_probe` reports: a socket's sending state as a segment arrives for it
/// (`tcp_rcv_established()` fires it first thing, before the segment is processed), so on the
/// sending side of a transfer there is one per ACK. The fields are the kernel's `struct tcp_sock`
/// members of the same names.
public struct TCPProbe: Sendable, Equatable {
    /// `tcp_snd_cwnd()`: the congestion window, in segments (MSS-sized), not bytes.
    public var congestionWindow: Int
    /// `tcp_current_ssthresh()`, in segments. Not always `snd_ssthresh` itself: outside a window
    /// reduction the kernel reports the larger of snd_ssthresh and 3/4 of cwnd. While no loss has
    /// set it, it is `infiniteThreshold`.
    public var slowStartThreshold: Int
    /// The smoothed round-trip time in microseconds. The kernel keeps `srtt_us` times 8 (RFC 6298's
    /// fixed point); the tracepoint stores `srtt_us >> 3`, so this is plain microseconds.
    public var smoothedRTTMicroseconds: Int
    /// The peer's advertised window (scaled, in bytes) and our own receive window, in bytes.
    public var sendWindow: Int
    public var receiveWindow: Int
    /// SND.NXT and SND.UNA (RFC 793): the next sequence number to send, the oldest unacknowledged.
    public var sendNext: UInt32
    public var sendUnacknowledged: UInt32
    /// The payload length of the segment that arrived (0 for a bare ACK).
    public var dataLength: Int

    /// `TCP_INFINITE_SSTHRESH` (0x7fffffff): ssthresh not set yet, the connection is in its first slow start.
    public static let infiniteThreshold = 0x7fff_ffff

    public init(congestionWindow: Int, slowStartThreshold: Int, smoothedRTTMicroseconds: Int, sendWindow: Int,
                receiveWindow: Int, sendNext: UInt32, sendUnacknowledged: UInt32, dataLength: Int) {
        self.congestionWindow = congestionWindow
        self.slowStartThreshold = slowStartThreshold
        self.smoothedRTTMicroseconds = smoothedRTTMicroseconds
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
        self.sendNext = sendNext
        self.sendUnacknowledged = sendUnacknowledged
        self.dataLength = dataLength
    }

    /// True in slow start: cwnd below ssthresh (RFC 5681 §3.1). The reported ssthresh is at
    /// least 3/4 of cwnd outside a reduction, so cwnd ≥ it means congestion avoidance either way.
    public var inSlowStart: Bool { congestionWindow < slowStartThreshold }

    /// Bytes sent and not yet acknowledged (SND.NXT − SND.UNA, modulo 2³²).
    public var bytesInFlight: Int { Int(sendNext &- sendUnacknowledged) }

    /// `∞` for the initial ssthresh, else the number.
    public var thresholdText: String {
        slowStartThreshold >= Self.infiniteThreshold ? "∞" : String(slowStartThreshold)
    }

    /// The srtt in milliseconds with one decimal: `40.1 ms`, `0.1 ms`.
    public var smoothedRTTText: String {
        let tenths = (smoothedRTTMicroseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}
