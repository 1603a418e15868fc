import KernelKit
import SocketCore
import Testing

/// Kernel events as lines: one step, one line. The takeover's two events are one
/// `FIN_WAIT2 → TIME_WAIT`; a listener drop's two counters are one line naming its scope.
@Suite struct KernelLinesTests {
    static func at(_ microseconds: Int64) -> EpochTime { EpochTime(microseconds: microseconds) }

    static func counter(_ name: String, _ delta: Int64, _ total: Int64, at time: Int64, listener: Int? = nil) -> KernelEvent {
        KernelEvent(time: at(time), kind: .counter(name: name, delta: delta, total: total),
                    local: listener == nil ? "" : "127.0.0.1", localPort: listener ?? 0)
    }

    @Test func aDropIsOneLineWithBothCountersAndItsScope() {
        var lines = KernelLines()
        #expect(lines.next(Self.counter("ListenOverflows", 1, 17, at: 5)) == nil)
        let drop = lines.next(Self.counter("ListenDrops", 1, 18, at: 5))
        #expect(drop?.text == "[kernel] a SYN or handshake ACK was dropped somewhere in this network namespace "
            + "(ListenDrops +1, total 18; ListenOverflows +1, total 17; counters of the whole network namespace)")
        // The file is read one counter at a time: an overflow counted in the next sample was a
        // drop ListenDrops already showed.
        #expect(lines.next(Self.counter("ListenOverflows", 1, 18, at: 9)) == nil)
        // A drop that was not an overflow (ListenDrops alone).
        let other = lines.next(Self.counter("ListenDrops", 2, 20, at: 12))
        #expect(other?.text == "[kernel] 2 SYNs or handshake ACKs were dropped somewhere in this network namespace "
            + "(ListenDrops +2, total 20; counters of the whole network namespace)")
    }

    @Test func ourListenerIsNamedOnlyWhenSockDiagSawItsQueueFull() {
        var lines = KernelLines()
        _ = lines.next(Self.counter("ListenOverflows", 1, 3, at: 5, listener: 5000))
        let drop = lines.next(Self.counter("ListenDrops", 1, 3, at: 5, listener: 5000))
        #expect(drop?.text == "[kernel] a SYN or handshake ACK was dropped: 127.0.0.1:5000's accept queue was full "
            + "(ListenDrops +1, total 3; ListenOverflows +1, total 3; counters of the whole network namespace)")
    }

    /// A recording made before counters named the listener: its accept-queue lines still say.
    @Test func aQueueShownFullNamesTheListener() {
        var lines = KernelLines()
        let queue = { (queued: Int, time: Int64) in
            KernelEvent(time: Self.at(time), kind: .acceptQueue(queued: queued, backlog: 1), local: "127.0.0.1", localPort: 5000)
        }
        _ = lines.next(queue(2, 4))
        #expect(lines.next(Self.counter("ListenDrops", 1, 3, at: 5))?.text.contains("dropped: 127.0.0.1:5000's accept queue was full") == true)
        _ = lines.next(queue(1, 6))
        #expect(lines.next(Self.counter("ListenDrops", 1, 4, at: 7))?.text.contains("somewhere in this network namespace") == true)
    }

    @Test func theTakeoverIsOneLineExplainedOnce() {
        var lines = KernelLines()
        func state(_ port: Int, _ from: TCPState, _ to: TCPState, _ source: KernelEvent.Source, at time: Int64) -> KernelEvent {
            KernelEvent(time: Self.at(time), kind: .state(from: from, to: to, source: source),
                        local: "127.0.0.1", localPort: port, remote: "127.0.0.1", remotePort: 5000)
        }
        let first = lines.next(state(40000, .finWait2, .close, .tracepoint, at: 1))
        #expect(first?.text == "[kernel] 127.0.0.1:40000 FIN_WAIT2 → TIME_WAIT "
            + "(the peer's FIN arrived; the 4-tuple is held so late segments are not misread)")
        #expect(first?.event.kind == .state(from: .finWait2, to: .timeWait, source: .tracepoint))
        #expect(first?.note != nil)
        #expect(lines.next(state(40000, .finWait2, .timeWait, .sockDiag, at: 2)) == nil)
        let second = lines.next(state(40001, .closing, .close, .tracepoint, at: 3))
        #expect(second?.text.contains("CLOSING → TIME_WAIT (our FIN is acknowledged") == true)
        #expect(second?.note == nil, "explained once per run")
    }

    @Test func sockDiagRemembersWhichListenersWereFullSinceTheLastRead() {
        var table = SocketTable()
        var listener = DiagSocket(state: .listen, local: "127.0.0.1", localPort: 5000, remote: "0.0.0.0", remotePort: 0,
                                  expiresMilliseconds: 0, receiveQueue: 1, sendQueue: 1)
        _ = table.update([listener], at: Self.at(1))
        #expect(table.takeFullListeners().isEmpty, "1 queued of backlog 1 is not full: the kernel holds backlog + 1")
        listener.receiveQueue = 2
        _ = table.update([listener], at: Self.at(2))
        listener.receiveQueue = 0
        _ = table.update([listener], at: Self.at(3))
        #expect(table.takeFullListeners().map(\.localPort) == [5000], "full at a sample since the last read")
        #expect(table.takeFullListeners().isEmpty)
    }
}
