import Foundation
import Testing
import Timeline
import SocketCore
@testable import KernelKit

/// `tcp:tcp_probe`: the congestion window, ssthresh and srtt (lesson 13's slow start). The lines
/// are real ones from Linux 6.18's trace buffer (a 2 MB transfer over loopback), stamps aside.
@Suite struct ProbeTracepointTests {
    let clock = TraceClock(offsetSeconds: 37)
    /// The receiver's first sample: a data segment arrived (data_len 32741), its own window untouched.
    static let receiver = "         python3-18526   [001] ..s2. 1796073938.564354: tcp_probe: family=AF_INET src=127.0.0.1:47211 dest=127.0.0.1:50260 mark=0x0 data_len=32741 snd_nxt=0xdc763922 snd_una=0xdc763922 snd_cwnd=10 ssthresh=2147483647 snd_wnd=65536 srtt=24 rcv_wnd=65483 sock_cookie=37c09 skbaddr=00000000bcf33564 skaddr=000000009ae58162"
    /// The sender in slow start: an ACK arrived, cwnd 11, ssthresh still infinite.
    static let slowStart = "         python3-18575   [001] ..s2. 1796073938.564795: tcp_probe: family=AF_INET src=127.0.0.1:50260 dest=127.0.0.1:47211 mark=0x0 data_len=0 snd_nxt=0xa3dd139c snd_una=0xa3db9f9c snd_cwnd=11 ssthresh=2147483647 snd_wnd=95232 srtt=49 rcv_wnd=65536 sock_cookie=37c0a skbaddr=000000000c503416 skaddr=00000000386e1860"
    /// The sender after slow start: ssthresh reported (tcp_current_ssthresh: 3/4 of cwnd 26).
    static let afterSlowStart = "         python3-18575   [001] ..s2. 1796073938.565449: tcp_probe: family=AF_INET src=127.0.0.1:50260 dest=127.0.0.1:47211 mark=0x0 data_len=0 snd_nxt=0xa3f9a437 snd_una=0xa3f92422 snd_cwnd=26 ssthresh=19 snd_wnd=288768 srtt=65 rcv_wnd=65536 sock_cookie=37c0a skbaddr=0000000071638c42 skaddr=00000000386e1860"

    @Test func aProbeLineIsATCPProbeEvent() throws {
        let event = try #require(TracefsLine.parse(Substring(Self.slowStart), clock: clock))
        #expect(event.local == "127.0.0.1" && event.localPort == 50260 && event.remotePort == 47211)
        let probe = TCPProbe(congestionWindow: 11, slowStartThreshold: 2_147_483_647, smoothedRTTMicroseconds: 49,
                             sendWindow: 95232, receiveWindow: 65536, sendNext: 0xa3dd139c, sendUnacknowledged: 0xa3db9f9c,
                             dataLength: 0)
        #expect(event.kind == .probe(probe))
        #expect(event.json == #"{"type":"tcp-probe","time":1796073901.564795,"local":"127.0.0.1","lport":50260,"remote":"127.0.0.1","rport":47211,"snd_cwnd":11,"ssthresh":2147483647,"srtt_us":49,"snd_wnd":95232,"rcv_wnd":65536,"snd_nxt":2749174684,"snd_una":2749079452,"data_len":0}"#)
        #expect(KernelEvent(event.timelineEvent) == event, "read back from a sidecar")
        #expect(probe.inSlowStart && probe.bytesInFlight == 0xa3dd139c - 0xa3db9f9c)
        #expect(event.text == "[kernel] 127.0.0.1:50260 cwnd 11, ssthresh ∞, srtt 0.0 ms, 95232 bytes in flight "
            + "(slow start: one segment more per segment acknowledged, so it doubles each round trip)")
        let receiver = try #require(TracefsLine.parse(Substring(Self.receiver), clock: clock))
        guard case .probe(let data) = receiver.kind else { Issue.record("not a probe"); return }
        #expect(data.dataLength == 32741 && data.sendNext == 0xdc763922 && data.smoothedRTTMicroseconds == 24)
    }

    @Test func theTracepointIsOnOnlyWithAPortToFilterItInTheKernel() {
        #expect(TraceInstance.tracepoints.contains("tcp/tcp_probe"))
        #expect(TraceInstance.kernelFilter("tcp/tcp_probe", ports: [5000]) == "(sport == 5000 || dport == 5000)")
        #expect(TraceInstance.enabled(ports: [5000]).contains("tcp/tcp_probe"))
        #expect(!TraceInstance.enabled(ports: []).contains("tcp/tcp_probe"), "never unfiltered: it would flood the ring")
    }

    @Test func numbersOutOfRangeAreRejected() {
        #expect(TracefsLine.hex32(Array("0xffffffff".utf8)[...]) == 0xffff_ffff)
        #expect(TracefsLine.hex32(Array("0x1ffffffff".utf8)[...]) == nil)
        #expect(TracefsLine.hex32(Array("0".utf8)[...]) == 0)
        #expect(TracefsLine.wideInt(Array("4294967296".utf8)[...]) == nil)
        let cut = Self.slowStart.replacingOccurrences(of: "snd_cwnd=11", with: "snd_cwnd=x")
        #expect(TracefsLine.parse(Substring(cut), clock: clock) == nil)
    }

    @Test func theThinnerKeepsChangesOnly() throws {
        var thinner = ProbeThinner()
        let first = try #require(TracefsLine.parse(Substring(Self.slowStart), clock: clock))
        var same = first
        same.time = first.time.adding(seconds: 0.001)
        var later = same
        later.time = first.time.adding(seconds: 0.5)
        let grown = try #require(TracefsLine.parse(Substring(Self.afterSlowStart), clock: clock))
        // First kept; the same window 1 ms later dropped; 0.5 s later with no change dropped; a new cwnd kept.
        #expect(thinner.pass([first, same, later, grown]) == [first, grown])
        guard case .probe(var moved) = later.kind else { return }
        moved.smoothedRTTMicroseconds += 100
        var rttMoved = grown
        rttMoved.kind = .probe(TCPProbe(congestionWindow: 26, slowStartThreshold: 19, smoothedRTTMicroseconds: moved.smoothedRTTMicroseconds,
                                        sendWindow: 288768, receiveWindow: 65536, sendNext: 0, sendUnacknowledged: 0, dataLength: 0))
        var soon = rttMoved
        soon.time = grown.time.adding(seconds: 0.01)
        rttMoved.time = grown.time.adding(seconds: 0.2)
        #expect(thinner.pass([soon, rttMoved]) == [rttMoved], "an srtt change alone: after the interval only")
        // Leaving ESTABLISHED forgets the socket: its next sample is a first one again.
        let closed = KernelEvent(time: rttMoved.time, kind: .state(from: .established, to: .finWait1, source: .tracepoint),
                                 local: first.local, localPort: first.localPort, remote: first.remote, remotePort: first.remotePort)
        #expect(thinner.pass([closed]) == [closed] && thinner.socketCount == 0)
    }

    @Test func theThinnersMemoryIsBounded() {
        var thinner = ProbeThinner()
        let probe = TCPProbe(congestionWindow: 10, slowStartThreshold: TCPProbe.infiniteThreshold, smoothedRTTMicroseconds: 1,
                             sendWindow: 1, receiveWindow: 1, sendNext: 0, sendUnacknowledged: 0, dataLength: 0)
        for port in 1...(ProbeThinner.socketLimit + 10) {
            _ = thinner.pass([KernelEvent(time: EpochTime(microseconds: 0), kind: .probe(probe), local: "10.0.0.1", localPort: port,
                                          remote: "10.0.0.2", remotePort: 5000)])
        }
        #expect(thinner.socketCount <= ProbeThinner.socketLimit)
    }

    @Test func textTellsTheDoublingsTheCutsAndTheEndOfSlowStart() {
        var narration = ProbeNarration()
        func sample(_ cwnd: Int, _ ssthresh: Int = TCPProbe.infiniteThreshold, srtt: Int = 40_100) -> KernelEvent {
            KernelEvent(time: EpochTime(microseconds: 0),
                        kind: .probe(TCPProbe(congestionWindow: cwnd, slowStartThreshold: ssthresh, smoothedRTTMicroseconds: srtt,
                                              sendWindow: 65536, receiveWindow: 65536, sendNext: 14480, sendUnacknowledged: 0, dataLength: 0)),
                        local: "10.77.0.1", localPort: 40412, remote: "10.77.0.2", remotePort: 5000)
        }
        let lines = [10, 11, 19, 21, 30, 42, 41, 32, 30].map { narration.text(sample($0)) }
        #expect(lines.map { $0 == nil } == [true, true, true, false, true, false, true, true, false])
        #expect(lines[3] == "[kernel] 10.77.0.1:40412 cwnd 10 → 21, ssthresh ∞, srtt 40.1 ms, 14480 bytes in flight "
            + "(slow start: one segment more per segment acknowledged, so it doubles each round trip)")
        #expect(lines[8]?.contains("cwnd 42 → 30") == true && lines[8]?.contains("(cut: ") == true)
        #expect(narration.text(sample(32, 24))?.contains("cwnd 30 → 32, ssthresh 24") == true, "ssthresh set for the first time")
        #expect(narration.text(sample(33, 24)) == nil)
        let state = KernelEvent(time: EpochTime(microseconds: 0), kind: .resetReceived, local: "10.77.0.1", localPort: 1,
                                remote: "10.77.0.2", remotePort: 2)
        #expect(narration.text(state) == state.text, "other events print as always")
    }
}
