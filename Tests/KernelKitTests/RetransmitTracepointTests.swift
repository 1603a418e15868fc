import Testing
import Timeline
import SocketCore
@testable import KernelKit

/// `tcp:tcp_retransmit_skb`: a segment sent again (lesson 12 puts it beside the wire).
@Suite struct RetransmitTracepointTests {
    let clock = TraceClock(offsetSeconds: 37)

    @Test func aRetransmittedSegmentIsAKernelEvent() throws {
        let line = "          <idle>-0       [001] ..s1. 1796073938.670083: tcp_retransmit_skb: skbaddr=00000000c1a2b3c4 skaddr=00000000d5e6f708 family=AF_INET sport=44494 dport=5001 saddr=10.77.0.1 daddr=10.77.0.2 saddrv6=::ffff:10.77.0.1 daddrv6=::ffff:10.77.0.2 state=TCP_ESTABLISHED err=0"
        let event = try #require(TracefsLine.parse(Substring(line), clock: clock))
        #expect(event.json == #"{"type":"retransmit","time":1796073901.670083,"local":"10.77.0.1","lport":44494,"remote":"10.77.0.2","rport":5001}"#)
        #expect(event.text == "[kernel] 10.77.0.1:44494 sent a segment to 10.77.0.2:5001 again (tcp_retransmit_skb)")
        #expect(KernelEvent(event.timelineEvent) == event)
        #expect(TraceInstance.tracepoints.contains("tcp/tcp_retransmit_skb"))
        #expect(TraceInstance.kernelFilter("tcp/tcp_retransmit_skb", ports: [5001]) == "(sport == 5001 || dport == 5001)")
    }
}
