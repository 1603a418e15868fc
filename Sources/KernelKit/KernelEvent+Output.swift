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
        }
    }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.utf8.contains(0x3A) ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

extension TimeWaitTakeover {
    /// `event` as a line shows it: the takeover's `FIN_WAIT2 → CLOSE` as `FIN_WAIT2 → TIME_WAIT`,
    /// nil for sock_diag's TIME_WAIT of a takeover already shown. `explain`: say `explanation` now.
    public mutating func shown(_ event: KernelEvent) -> (event: KernelEvent, explain: Bool)? {
        var from: String?, to: String?, source: String?
        if case .state(let before, let after, let seenBy) = event.kind {
            (from, to, source) = (before.description, after.description, seenBy.rawValue)
        }
        let shown = show(type: event.type, local: KernelEvent.hostPort(event.local, event.localPort),
                         remote: KernelEvent.hostPort(event.remote, event.remotePort), from: from, to: to, source: source)
        switch shown {
        case .hidden:
            return nil
        case .asReported:
            return (event, false)
        case .takeover:
            var merged = event
            if case .state(let before, _, let seenBy) = event.kind { merged.kind = .state(from: before, to: .timeWait, source: seenBy) }
            return (merged, explainOnce(shown))
        }
    }
}
