/// Which `tcp:tcp_probe` samples get a line of text, and the change each line names.
///
/// JSON carries every sample `ProbeThinner` kept (one per change of cwnd, dozens a round trip in
/// slow start): too many lines for a terminal. Text, like `ss -i` read now and then, tells the
/// story instead: the first sample of a socket is its baseline and prints nothing; a line comes
/// when cwnd has doubled since the last line (`cwnd 10 → 20`, then `20 → 40`: slow start's
/// doubling per round trip), when it fell to 3/4 of it or less (a cut: CUBIC keeps 0.7 of the
/// window after a loss, Reno half; PRR gets there an ACK at a time, so smaller steps down are
/// the way there, not news), or when ssthresh is set for the first time
/// (slow start is over). A connection whose window never moves (a short exchange) prints none.
///
/// Bounded as `ProbeThinner` is: at most `socketLimit` sockets, then all forgotten at once.
public struct ProbeNarration {
    static let socketLimit = 4_096

    private struct Socket: Hashable { var local: String, lport: Int, remote: String, rport: Int }
    private var printed: [Socket: TCPProbe] = [:]

    public init() {}

    /// The text line for `event`, or nil when it prints none; `event.text` for every other kind.
    public mutating func text(_ event: KernelEvent) -> String? {
        guard case .probe(let probe) = event.kind else { return event.text }
        let socket = Socket(local: event.local, lport: event.localPort, remote: event.remote, rport: event.remotePort)
        guard let previous = printed[socket] else {
            if printed.count >= Self.socketLimit { printed.removeAll(keepingCapacity: true) }
            printed[socket] = probe
            return nil
        }
        let doubled = probe.congestionWindow >= 2 * previous.congestionWindow
        let cut = 4 * probe.congestionWindow <= 3 * previous.congestionWindow
        let thresholdSet = previous.slowStartThreshold >= TCPProbe.infiniteThreshold
            && probe.slowStartThreshold < TCPProbe.infiniteThreshold
        guard doubled || cut || thresholdSet else { return nil }
        printed[socket] = probe
        return event.probeText(probe, after: previous)
    }
}
