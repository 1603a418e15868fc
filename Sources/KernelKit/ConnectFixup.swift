/// connect()'s `CLOSE → SYN_SENT` fires before the port is bound: the tracepoint says sport 0.
/// This holds such an event until the same socket's next event (from SYN_SENT, same remote end)
/// names the port, then fills it in. An event never completed is let go after `patience` seconds
/// with port 0, as the kernel reported it.
struct ConnectFixup {
    static let patience: Int64 = 1_000_000   // µs
    private var held: [KernelEvent] = []

    /// Events ready to go, in arrival order: `incoming` with held ones completed where possible.
    mutating func pass(_ incoming: [KernelEvent], now: Int64) -> [KernelEvent] {
        if held.isEmpty && incoming.isEmpty { return [] }   // the common case between packets
        var out: [KernelEvent] = []
        for event in incoming {
            if case .state(.close, .synSent, _) = event.kind, event.localPort == 0 {
                held.append(event)
                continue
            }
            if case .state(.synSent, _, _) = event.kind,
               let index = held.firstIndex(where: { $0.remote == event.remote && $0.remotePort == event.remotePort }) {
                var completed = held.remove(at: index)
                completed.localPort = event.localPort
                completed.local = event.local
                out.append(completed)
            }
            out.append(event)
        }
        let (expired, kept) = (held.filter { now - $0.time.microseconds > Self.patience },
                               held.filter { now - $0.time.microseconds <= Self.patience })
        held = kept
        return out + expired
    }

    /// The SYN of a connect() was captured, from `local:lport` to `remote:rport`: the oldest held
    /// event towards that remote end is that connect()'s (one process's connects go out in the
    /// order they were called). It goes now, with the port, without waiting for the next event.
    mutating func complete(local: String, lport: Int, remote: String, rport: Int) -> KernelEvent? {
        guard let index = held.firstIndex(where: { $0.remote == remote && $0.remotePort == rport }) else { return nil }
        var completed = held.remove(at: index)
        completed.localPort = lport
        completed.local = local
        return completed
    }

    /// Everything still held (the end of the run).
    mutating func flush() -> [KernelEvent] {
        defer { held = [] }
        return held
    }
}
