import Testing
import Timeline
import SocketCore
@testable import KernelKit

/// The readers on fixed input: tracefs lines, /proc/net/netstat text, sock_diag samples.
@Suite struct KernelReaderTests {
    let clock = TraceClock(offsetSeconds: 37)

    @Test func stateLineFromTracefs() throws {
        let line = "   python3-12929   [001] .N... 1796073938.670083: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=56814 dport=1 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_SYN_SENT newstate=TCP_CLOSE"
        let event = try #require(TracefsLine.parse(Substring(line), clock: clock))
        #expect(event.json == #"{"type":"state","time":1796073901.670083,"local":"127.0.0.1","lport":56814,"remote":"127.0.0.1","rport":1,"from":"SYN_SENT","to":"CLOSE","source":"tracepoint"}"#)
    }

    @Test func taskNamesWithSpacesAndIPv6() throws {
        let line = "  my task-name-7  [000] ..s1. 1796073938.000001: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=5000 dport=40000 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV"
        let event = try #require(TracefsLine.parse(Substring(line), clock: clock))
        #expect(event.local == "::1" && event.localPort == 5000 && event.remotePort == 40000)
        #expect(event.kind == .state(from: .listen, to: .synRecv, source: .tracepoint))
        #expect(event.text.hasPrefix("[kernel] [::1]:5000 LISTEN → SYN_RECV (a child socket"))
    }

    @Test func resetSentNamesItsReason() throws {
        let line = " python3-1 [001] .Ns1. 1796073938.670066: tcp_send_reset: skbaddr=000000003e3dec70 skaddr=0000000000000000 src=127.0.0.1:1 dest=127.0.0.1:56814 state=UNKNOWN reason=NO_SOCKET"
        let event = try #require(TracefsLine.parse(Substring(line), clock: clock))
        #expect(event.json == #"{"type":"reset-sent","time":1796073901.670066,"local":"127.0.0.1","lport":1,"remote":"127.0.0.1","rport":56814,"reason":"NO_SOCKET"}"#)
        let six = " x-1 [001] ..... 1796073938.000000: tcp_send_reset: skbaddr=0 skaddr=0 src=[::1]:5000 dest=[::1]:40000 state=TCP_ESTABLISHED reason=TCP_ABORT_ON_CLOSE"
        #expect(TracefsLine.parse(Substring(six), clock: clock)?.local == "::1")
    }

    @Test func retransmitSkbNamesTheSocket() throws {
        // tcp:tcp_retransmit_skb on Linux 6.18 (the format has `err` since 6.12).
        let line = " ksoftirqd/1-22 [001] ..s1. 1796073938.657433: tcp_retransmit_skb: skbaddr=00000000a1b2c3d4 skaddr=00000000e5f6a7b8 family=AF_INET sport=39238 dport=35585 saddr=10.21.0.1 daddr=10.21.0.2 saddrv6=::ffff:10.21.0.1 daddrv6=::ffff:10.21.0.2 state=TCP_ESTABLISHED err=0"
        let event = try #require(TracefsLine.parse(Substring(line), clock: clock))
        #expect(event.json == #"{"type":"retransmit","time":1796073901.657433,"local":"10.21.0.1","lport":39238,"remote":"10.21.0.2","rport":35585}"#)
        #expect(event.text == "[kernel] 10.21.0.1:39238 sent a segment to 10.21.0.2:35585 again (tcp_retransmit_skb)")
        #expect(KernelEvent(event.timelineEvent) == event, "read back from a sidecar")
        #expect(TraceInstance.tracepoints.contains("tcp/tcp_retransmit_skb"))
        #expect(TraceInstance.kernelFilter("tcp/tcp_retransmit_skb", ports: [5000]) == "(sport == 5000 || dport == 5000)")
    }

    @Test func otherLinesAreSkipped() {
        #expect(TracefsLine.parse("# tracer: nop", clock: clock) == nil)
        #expect(TracefsLine.parse(" x-1 [001] ..... 12.0: sched_switch: prev_comm=a", clock: clock) == nil)
        #expect(TracefsLine.parse(" x-1 [001] ..... 12.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_SCTP sport=1 dport=2 saddr=1.1.1.1 daddr=1.1.1.1 oldstate=TCP_CLOSE newstate=TCP_LISTEN", clock: clock) == nil)
        #expect(TracefsLine.parse(" x-1 [001] ..... 12.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1", clock: clock) == nil)
    }

    @Test func connectPortIsFilledIn() {
        var fixup = ConnectFixup()
        let t = EpochTime(microseconds: 10)
        let syn = KernelEvent(time: t, kind: .state(from: .close, to: .synSent, source: .tracepoint),
                              local: "127.0.0.1", localPort: 0, remote: "127.0.0.1", remotePort: 5000)
        #expect(fixup.pass([syn], now: 20).isEmpty)
        let established = KernelEvent(time: EpochTime(microseconds: 30), kind: .state(from: .synSent, to: .established, source: .tracepoint),
                                      local: "127.0.0.1", localPort: 40000, remote: "127.0.0.1", remotePort: 5000)
        let out = fixup.pass([established], now: 40)
        #expect(out.map(\.localPort) == [40000, 40000])
        #expect(out.first?.kind == .state(from: .close, to: .synSent, source: .tracepoint))
        #expect(fixup.pass([syn], now: 20 + ConnectFixup.patience + 1) == [syn])
    }

    @Test func netstatCounters() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\nTcpExt: 0 17 18 5\nIpExt: InNoRoutes\nIpExt: 0\n"
        #expect(NetstatCounters.parse(text) == ["ListenOverflows": 17, "ListenDrops": 18])
    }

    @Test func socketTableEmitsChanges() {
        var table = SocketTable()
        let listener = DiagSocket(state: .listen, local: "127.0.0.1", localPort: 5000, remote: "0.0.0.0", remotePort: 0,
                                  expiresMilliseconds: 0, receiveQueue: 0, sendQueue: 2)
        #expect(table.update([listener], at: EpochTime(microseconds: 1)).isEmpty)
        var full = listener
        full.receiveQueue = 3
        let waiting = DiagSocket(state: .timeWait, local: "127.0.0.1", localPort: 40000, remote: "127.0.0.1", remotePort: 5000,
                                 expiresMilliseconds: 59_500, receiveQueue: 0, sendQueue: 0)
        let events = table.update([full, waiting], at: EpochTime(microseconds: 2))
        #expect(events.map(\.json) == [
            #"{"type":"accept-queue","time":0.000002,"local":"127.0.0.1","lport":5000,"queued":3,"backlog":2}"#,
            #"{"type":"state","time":0.000002,"local":"127.0.0.1","lport":40000,"remote":"127.0.0.1","rport":5000,"from":"FIN_WAIT2","to":"TIME_WAIT","source":"sock_diag"}"#,
        ])
        #expect(table.timeWait(local: "127.0.0.1", lport: 40000, remote: "127.0.0.1", rport: 5000) == 59.5)
        #expect(table.update([full, waiting], at: EpochTime(microseconds: 3)).isEmpty)
        #expect(table.update([full], at: EpochTime(microseconds: 4)).isEmpty, "one sample without it may be a skip")
        let gone = table.update([full], at: EpochTime(microseconds: 5))
        #expect(gone.map(\.kind) == [.state(from: .timeWait, to: .close, source: .sockDiag)])
    }

    /// A dump reads the listeners first and walks the established hash after them: the accept
    /// queue is stamped when the sample was asked for, a TIME_WAIT when the answer was complete.
    @Test func acceptQueuesAreStampedWhenTheSampleWasAskedFor() {
        var table = SocketTable()
        var listener = DiagSocket(state: .listen, local: "127.0.0.1", localPort: 5000, remote: "0.0.0.0", remotePort: 0,
                                  expiresMilliseconds: 0, receiveQueue: 0, sendQueue: 5)
        _ = table.update([listener], at: EpochTime(microseconds: 1))
        listener.receiveQueue = 1
        let waiting = DiagSocket(state: .timeWait, local: "127.0.0.1", localPort: 40000, remote: "127.0.0.1", remotePort: 5000,
                                 expiresMilliseconds: 60_000, receiveQueue: 0, sendQueue: 0)
        let events = table.update([listener, waiting], at: EpochTime(microseconds: 9_000), asked: EpochTime(microseconds: 4_000))
        #expect(events.map(\.type) == ["accept-queue", "state"])
        #expect(events.map(\.time.microseconds) == [4_000, 9_000])
        listener.receiveQueue = 0
        let taken = table.update([listener], at: EpochTime(microseconds: 12_000), asked: EpochTime(microseconds: 11_000))
        #expect(taken.map(\.time.microseconds) == [11_000])
    }

    @Test func captureFilterRunsOverEvents() throws {
        let filter = try #require(EventFilter(expression: "port 5000"))
        #expect(filter.matches(local: "127.0.0.1", lport: 40000, remote: "127.0.0.1", rport: 5000))
        #expect(filter.matches(local: "::1", lport: 5000, remote: "::1", rport: 40000))
        #expect(!filter.matches(local: "127.0.0.1", lport: 40000, remote: "127.0.0.1", rport: 5001))
        let host = try #require(EventFilter(expression: "host ::1"))
        #expect(host.matches(local: "::1", lport: 1, remote: "::1", rport: 2))
        #expect(!host.matches(local: "127.0.0.1", lport: 1, remote: "127.0.0.1", rport: 2))
        #expect(EventFilter(expression: "port port") == nil)
    }

    @Test func kernelFilterUsesPortFields() {
        #expect(TraceInstance.kernelFilter("sock/inet_sock_set_state", ports: [5000]) == "protocol == 6 && (sport == 5000 || dport == 5000)")
        #expect(TraceInstance.kernelFilter("tcp/tcp_send_reset", ports: [5000]) == nil)
        #expect(TraceInstance.kernelFilter("tcp/tcp_receive_reset", ports: []) == nil)
    }

    @Test func sockDiagSeesOurListener() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 7)
        let port = try #require(listener.localAddress?.port)
        let sockets = try SockDiag().sockets(in: [.listen])
        let ours = try #require(sockets.first { $0.localPort == Int(port) && $0.local == "127.0.0.1" })
        #expect(ours.state == .listen && ours.sendQueue == 7 && ours.receiveQueue == 0)
    }
}

@Suite struct KernelTimelineTests {
    @Test func everyKindRoundTripsThroughTheTimeline() throws {
        let t = EpochTime(microseconds: 1_795_642_942_605_045)
        let events = [
            KernelEvent(time: t, kind: .state(from: .synSent, to: .established, source: .tracepoint),
                        local: "127.0.0.1", localPort: 44806, remote: "127.0.0.1", remotePort: 38633, connection: 1),
            KernelEvent(time: t, kind: .resetSent(reason: "NO_SOCKET"), local: "::1", localPort: 1, remote: "::1", remotePort: 2),
            KernelEvent(time: t, kind: .resetReceived, local: "::1", localPort: 1, remote: "::1", remotePort: 2),
            KernelEvent(time: t, kind: .synackRetransmit, local: "::1", localPort: 1, remote: "::1", remotePort: 2),
            KernelEvent(time: t, kind: .acceptQueue(queued: 3, backlog: 2), local: "127.0.0.1", localPort: 35047),
            KernelEvent(time: t, kind: .counter(name: "ListenOverflows", delta: 1, total: 17)),
        ]
        #expect(events[0].json == #"{"type":"state","time":1795642942.605045,"local":"127.0.0.1","lport":44806,"remote":"127.0.0.1","rport":38633,"from":"SYN_SENT","to":"ESTABLISHED","source":"tracepoint","conn":1}"#)
        #expect(events[4].json == #"{"type":"accept-queue","time":1795642942.605045,"local":"127.0.0.1","lport":35047,"queued":3,"backlog":2}"#)
        #expect(events[5].json == #"{"type":"counter","time":1795642942.605045,"name":"ListenOverflows","delta":1,"total":17}"#)
        for event in events {
            let line = try TimelineEvent(jsonLine: event.json)
            #expect(KernelEvent(line) == event)
        }
    }
}

@Suite struct SockDiagLookupTests {
    @Test func exactLookupFindsTimeWaitEveryTime() throws {
        let listener = try Socket.listening(host: "::1", port: 0, backlog: 4)
        let port = Int(try #require(listener.localAddress?.port))
        let client = try Socket.connected(host: "::1", port: port)
        let (server, _) = try listener.accept()
        let clientPort = Int(try #require(client.localAddress?.port))
        try client.close()
        _ = try server.recv(maxBytes: 10)   // the FIN
        try server.close()
        let diag = try SockDiag()
        var found: [TCPState?] = []
        for _ in 0..<3 {
            found.append(try diag.socket(local: "::1", lport: clientPort, remote: "::1", rport: port)?.state)
            _ = try diag.socket(local: "::1", lport: port, remote: "::1", rport: clientPort)
            _ = try diag.sockets(in: [.listen])
        }
        #expect(found.allSatisfy { $0 == .timeWait }, "\(found)")
    }
}
