import Foundation
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
            // Alone, as a sidecar may hold it; `KernelLines` shows a drop's two counters on one line.
            let drops = name == "ListenDrops" ? (delta, total) : (0, 0)
            let overflows = name == "ListenOverflows" ? (delta, total) : nil
            return Self.listenDropText(drops: drops, overflows: overflows, listener: local.isEmpty ? nil : socket)
                ?? "[kernel] \(name) \(Self.signed(delta)), total \(total) (whole network namespace)"
        case .probe(let probe):
            return probeText(probe, after: nil)
        }
    }

    /// `--brief`'s line: the socket, what happened and the peer, without the explanation, as a
    /// brief packet line keeps only its step's name: `[kernel] 127.0.0.1:44806 CLOSE → SYN_SENT`,
    /// `[kernel] 127.0.0.1:5000 RST sent to 127.0.0.1:44806: TCP_STATE`.
    public func briefText(_ full: String) -> String {
        let socket = Self.hostPort(local, localPort)
        let peer = Self.hostPort(remote, remotePort)
        switch kind {
        case .resetSent(let reason): return "[kernel] \(socket) RST sent to \(peer): \(reason)"
        case .resetReceived: return "[kernel] \(socket) RST received from \(peer)"
        case .synackRetransmit: return "[kernel] \(socket) SYN-ACK to \(peer) again"
        case .retransmit: return "[kernel] \(socket) segment to \(peer) again"
        case .probe: return full.replacingOccurrences(of: #", \d+ bytes in flight"#, with: "", options: .regularExpression)
                .withoutTrailingParenthesis
        case .counter:
            return full.withoutTrailingParenthesis.replacingOccurrences(of: "SYN or handshake ACK", with: "SYN/ACK")
                .replacingOccurrences(of: "SYNs or handshake ACKs", with: "SYNs/ACKs")
                .replacingOccurrences(of: " somewhere in this network namespace", with: " in this namespace")
                .replacingOccurrences(of: " were dropped", with: " dropped").replacingOccurrences(of: " was dropped", with: " dropped")
                .replacingOccurrences(of: "'s accept queue was full", with: ": accept queue full")
        case .acceptQueue:
            return full.replacingOccurrences(of: ": full, the next SYN is dropped", with: ": full")
        case .state:
            return full.withoutTrailingParenthesis
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

    /// The line of one drop (or a sample's few): ListenDrops counts every SYN or handshake ACK a
    /// listener dropped, ListenOverflows those of them a full accept queue dropped. Both count
    /// for the whole network namespace; `listener` is ours when sock_diag saw its queue full.
    /// Nil when neither counter moved.
    static func listenDropText(drops: (delta: Int64, total: Int64), overflows: (delta: Int64, total: Int64)?,
                               listener: String?) -> String? {
        guard drops.delta > 0 || (overflows?.delta ?? 0) > 0 else { return nil }
        let count = max(drops.delta, overflows?.delta ?? 0)
        let what = count == 1 ? "a SYN or handshake ACK was" : "\(count) SYNs or handshake ACKs were"
        var counters: [String] = []
        if drops.delta != 0 || overflows == nil { counters.append("ListenDrops \(signed(drops.delta)), total \(drops.total)") }
        if let overflows { counters.append("ListenOverflows \(signed(overflows.delta)), total \(overflows.total)") }
        let numbers = counters.joined(separator: "; ") + "; counters of the whole network namespace"
        if let listener {
            return "[kernel] \(what) dropped: \(listener)'s accept queue was full (\(numbers))"
        }
        return "[kernel] \(what) dropped somewhere in this network namespace (\(numbers))"
    }

    static func signed(_ value: Int64) -> String { value >= 0 ? "+\(value)" : "\(value)" }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.utf8.contains(0x3A) ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

extension String {
    /// The line without its last ` (...)` when it ends with one (parentheses may nest inside:
    /// `(connect(): the SYN goes out next)`): `--brief` keeps the fact, not its explanation.
    var withoutTrailingParenthesis: String {
        guard hasSuffix(")") else { return self }
        var depth = 0
        var index = endIndex
        while index > startIndex {
            index = self.index(before: index)
            if self[index] == ")" { depth += 1 }
            if self[index] == "(" {
                depth -= 1
                if depth == 0 {
                    guard index > startIndex, self[self.index(before: index)] == " " else { return self }
                    return String(self[..<self.index(before: index)])
                }
            }
        }
        return self
    }
}
