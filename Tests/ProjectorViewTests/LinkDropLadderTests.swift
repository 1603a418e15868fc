import Testing
import Timeline
@testable import LiveView

/// A `link-drop` on the SVG ladder, from synthetic events: a packet the capture never saw (it was
/// lost before the capture's side) is an arrow of its own that stops halfway in ✗; a packet the
/// capture saw leave is that same arrow, stopped.
@Suite struct LinkDropLadderTests {
    static let syn = #"{"type":"packet","time":100.000000,"src":"10.77.0.1","sport":40000,"dst":"10.77.0.2","dport":5000,"flags":["SYN"],"seq":1000,"ack":0,"len":0,"win":64240,"win_raw":64240,"conn":1,"step":"handshake-syn"}"#
    static let synAck = #"{"type":"packet","time":100.000100,"src":"10.77.0.2","sport":5000,"dst":"10.77.0.1","dport":40000,"flags":["SYN","ACK"],"seq":7000,"ack":1001,"len":0,"win":65160,"win_raw":65160,"conn":1,"step":"handshake-syn-ack"}"#
    static let drop = #"{"type":"link-drop","time":100.000200,"dir":"s→c","reason":"rule","src":"10.77.0.2","sport":5000,"dst":"10.77.0.1","dport":40000,"flags":["SYN","ACK"],"seq":7000,"len":0}"#

    private func svg(_ lines: [String]) throws -> String {
        SVGLadderWriter.svg(try lines.map { try TimelineEvent(jsonLine: $0) })
    }

    @Test func aPacketTheCaptureNeverSawIsALostArrowOfItsOwn() throws {
        let drawn = try svg([Self.syn, Self.drop])
        #expect(drawn.contains("<title>SYN,ACK seq 0 lost (rule): the link dropped it</title>"))
        #expect(drawn.components(separatedBy: "<polygon ").count - 1 == 1)   // the SYN's head only
        #expect(drawn.contains(">✗</text>"))
    }

    @Test func aPacketTheCaptureSawLeaveIsThatArrowStopped() throws {
        let drawn = try svg([Self.syn, Self.synAck, Self.drop])
        #expect(drawn.contains("<title>SYN,ACK seq 0 ack 1 lost (rule): the link dropped it: it never arrives</title>"))
        #expect(drawn.components(separatedBy: "<polygon ").count - 1 == 2)   // one arrow per captured packet
        #expect(drawn.components(separatedBy: ">✗</text>").count == 2)
    }
}
