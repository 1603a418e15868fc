import SocketCore
import Timeline

extension KernelEvent {
    /// The JSON Lines object of EVENTS.md (through the shared `TimelineEvent`), keys in its order:
    /// `{"type":"state","time":T,"local":"127.0.0.1","lport":44806,"remote":"127.0.0.1","rport":38633,
    ///   "from":"SYN_SENT","to":"ESTABLISHED","source":"tracepoint","conn":1}`.
    public var json: String { timelineEvent.jsonLine }

    /// The terminal line, after the time stamp:
    /// `[kernel] 127.0.0.1:44806 CLOSE → SYN_SENT (connect(): the SYN goes out next)`.
    public var text: String {
        let socket = Self.hostPort(local, localPort)
        let peer = Self.hostPort(remote, remotePort)
        switch kind {
        case .state(let from, let to, _):
            return "[kernel] \(socket) \(from) → \(to) (\(StateMeaning.text(from: from, to: to)))"
        case .resetSent(let reason):
            return "[kernel] \(socket) sent RST to \(peer), reason \(reason) (\(StateMeaning.resetReason(reason)))"
        case .resetReceived:
            return "[kernel] \(socket) received RST from \(peer): the connection is aborted"
        case .synackRetransmit:
            return "[kernel] \(socket) sent the SYN-ACK to \(peer) again: its ACK did not come"
        case .retransmit:
            return "[kernel] \(socket) sent a segment to \(peer) again (tcp_retransmit_skb)"
        case .acceptQueue(let queued, let backlog):
            let full = queued > backlog ? ": full, the next SYN is dropped" : ""
            return "[kernel] \(socket) accept queue \(queued)/\(backlog)\(full)"
        case .counter(let name, let delta, let total):
            return "[kernel] \(StateMeaning.counter(name)) (\(name) \(delta >= 0 ? "+" : "")\(delta), total \(total), whole network namespace)"
        case .probe(let probe):
            return probeText(probe, after: nil)
        }
    }

    /// A `tcp:tcp_probe` sample, as `ss -i` words it, with the phase it shows; `previous` (the
    /// last one printed for the socket) turns the window into a change:
    /// `[kernel] 10.77.0.1:40412 cwnd 10 → 20, ssthresh ∞, srtt 40.1 ms, 14480 bytes in flight (slow start: ...)`.
    public func probeText(_ probe: TCPProbe, after previous: TCPProbe?) -> String {
        let socket = Self.hostPort(local, localPort)
        let window = previous.map { "\($0.congestionWindow) → \(probe.congestionWindow)" } ?? String(probe.congestionWindow)
        let phase = if let previous, probe.congestionWindow < previous.congestionWindow {
            "cut: the kernel shrank it, after a loss, ECN, or a stretch the window was not used"
        } else if probe.inSlowStart {
            "slow start: one segment more per segment acknowledged, so it doubles each round trip"
        } else {
            "congestion avoidance: cwnd ≥ ssthresh, it grows slowly now (Reno: one segment per round trip)"
        }
        return "[kernel] \(socket) cwnd \(window), ssthresh \(probe.thresholdText), srtt \(probe.smoothedRTTText), "
            + "\(probe.bytesInFlight) bytes in flight (\(phase))"
    }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.utf8.contains(0x3A) ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
