/// Keeps the `tcp:tcp_probe` samples that say something new, out of one per segment received.
///
/// The tracepoint fires for every segment an established socket receives: a bulk transfer
/// brings one per ACK, tens of thousands a second on loopback (the kernel's port filter keeps
/// other connections out: `TraceInstance.enabled`). A sample is kept when it is the
/// socket's first, when snd_cwnd or ssthresh changed since the last one kept, or when
/// `interval` passed since then and the srtt or a window changed (so the srtt is drawn through
/// a long congestion-avoidance stretch). The rest are dropped here, before the capture filter
/// and the queue, so what is kept grows with the window's changes, not with the ACKs.
///
/// State per socket: its last kept sample, for at most `socketLimit` sockets; at the limit they
/// are forgotten all at once (each then starts again with its next sample). A socket's state
/// goes when the tracepoints report it leaving ESTABLISHED.
struct ProbeThinner {
    static let socketLimit = 4_096
    /// At most one sample per socket per this many microseconds when only srtt or a window moved.
    static let interval: Int64 = 100_000

    private struct Socket: Hashable { var local: String, lport: Int, remote: String, rport: Int }
    private var last: [Socket: (probe: TCPProbe, time: Int64)] = [:]

    var socketCount: Int { last.count }

    /// The events to keep, in their order: every non-probe event, and the probes that changed.
    mutating func pass(_ events: [KernelEvent]) -> [KernelEvent] {
        var kept: [KernelEvent] = []
        for event in events where keeps(event) { kept.append(event) }
        return kept
    }

    private mutating func keeps(_ event: KernelEvent) -> Bool {
        let socket = Socket(local: event.local, lport: event.localPort, remote: event.remote, rport: event.remotePort)
        switch event.kind {
        case .probe(let probe):
            let time = event.time.microseconds
            if let previous = last[socket], !Self.isNews(probe, after: previous.probe, elapsed: time - previous.time) {
                return false
            }
            if last[socket] == nil && last.count >= Self.socketLimit { last.removeAll(keepingCapacity: true) }
            last[socket] = (probe, time)
            return true
        case .state(.established, _, _):
            last[socket] = nil
            return true
        default:
            return true
        }
    }

    /// A change of the window or the threshold is always news; srtt and windows only after `interval`.
    static func isNews(_ probe: TCPProbe, after previous: TCPProbe, elapsed: Int64) -> Bool {
        if probe.congestionWindow != previous.congestionWindow || probe.slowStartThreshold != previous.slowStartThreshold {
            return true
        }
        guard elapsed >= interval else { return false }
        return probe.smoothedRTTMicroseconds != previous.smoothedRTTMicroseconds
            || probe.sendWindow != previous.sendWindow || probe.receiveWindow != previous.receiveWindow
    }
}
