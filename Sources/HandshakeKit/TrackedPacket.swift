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
    /// For retransmissions: seconds since the previous copy (nil when that copy was not
    /// captured), and which copy this is (2 = first retry).
    public var retransmitGap: Double?
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
    /// The two FINs crossed (simultaneous close): set on the second FIN, and on an ACK of a FIN
    /// after that (its receiver goes from CLOSING to TIME_WAIT, not to FIN_WAIT_2).
    public var simultaneousClose = false
    /// For teardown-ack: who is left in TIME_WAIT.
    public var timeWait: TimeWait = .none
    /// Where the client and server are.
    public var client: Endpoint
    public var server: Endpoint
    /// The advertised window in bytes (window scaling applied), nil when the scale is unknown
    /// because the handshake was not captured; the raw field is `packet.tcp.window`.
    public var window: Int? = nil
    /// The system call that sent this segment, named from recorded `--trace` events
    /// (`shutdown(SHUT_WR)`, `close()`); nil when none are at hand or they do not tell.
    public var call: String? = nil
    /// For a reset: its cause as the recorded events show it; nil when they do not.
    public var resetCause: ResetCause? = nil
    /// What the TCP analysis found (retransmission, duplicate ACK, zero window...), with the
    /// numbers its explanation needs.
    public var analysis = SegmentAnalysis()
    /// With `--kernel`: whether `tcp:tcp_retransmit_skb` saw the kernel retransmit this segment
    /// (true), or saw nothing for a segment the analysis took for a retransmission (false);
    /// nil without the kernel's view.
    public var kernelRetransmit: Bool? = nil

    /// The findings of this segment (shorthand for `analysis.findings`).
    public var findings: TCPAnalysis { analysis.findings }

    /// Takes the analysis in, and corrects the step where data or ack would be wrong: a resent
    /// segment is `retransmit`, a repeated ACK `dup-ack`, a zero-window or keep-alive probe `probe`.
    mutating func attach(_ analysis: SegmentAnalysis) {
        self.analysis = analysis
        let found = analysis.findings
        switch step {
        case .data, .ack:
            if !found.isDisjoint(with: [.zeroWindowProbe, .keepAlive]) {
                step = .probe
            } else if step == .data && !found.isDisjoint(with: TCPAnalysis.anyRetransmission) {
                step = .retransmit
            } else if step == .ack && found.contains(.duplicateAck) {
                step = .dupAck
            }
        default:
            break
        }
    }

    /// The relative form of a raw sequence number of the other side (an ACK's or a SACK
    /// block's edge), on the same base as `relativeAcknowledgement`.
    public func relativeToPeer(_ raw: UInt32) -> UInt32 {
        raw &- (packet.tcp.acknowledgement &- relativeAcknowledgement)
    }

    /// The relative form of a raw sequence number of this side.
    public func relativeToSender(_ raw: UInt32) -> UInt32 {
        raw &- (packet.tcp.sequence &- relativeSequence)
    }
}
