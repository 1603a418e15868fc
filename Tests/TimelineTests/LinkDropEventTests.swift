import SocketCore
import Testing
import Timeline

/// The `link-drop` event (EVENTS.md): its JSON line, its one text form, and that text from a
/// recording reaches no terminal raw.
@Suite struct LinkDropEventTests {
    @Test func aDropReadsBackAndPrintsAsOneLine() throws {
        let event = TimelineEvent.linkDrop(time: EpochTime(microseconds: 1_795_642_951_053_370), dir: "c→s", reason: .queue,
                                           src: "fd77::1", sport: 40000, dst: "fd77::2", dport: 5000,
                                           flags: ["PSH", "ACK"], seq: 7, len: 1448)
        let back = try TimelineEvent(jsonLine: event.jsonLine)
        #expect(back == event)
        #expect(back.linkDropText == "✗ c→s lost (queue) [fd77::1]:40000 → [fd77::2]:5000 [PSH,ACK] seq 7 len 1448")
        let datagram = TimelineEvent.linkDrop(time: EpochTime(microseconds: 0), dir: "s→c", reason: .loss, src: "10.77.0.2",
                                              sport: nil, dst: "10.77.0.1", dport: nil, flags: [], seq: nil, len: 56)
        #expect(datagram.linkDropText == "✗ s→c lost (loss) 10.77.0.2 → 10.77.0.1 len 56")
        #expect(TimelineEvent.output(time: EpochTime(microseconds: 0), label: "x", stream: "stdout", text: "y").linkDropText == nil)
    }

    @Test func controlCharactersFromARecordingAreEscaped() throws {
        let line = #"{"type":"link-drop","time":1.0,"dir":"\u001b[2J","reason":"rule\n","src":"10.77.0.2","sport":1,"dst":"10.77.0.1","dport":2,"flags":["S\u0007YN"],"seq":1,"len":0}"#
        let text = try #require(try TimelineEvent(jsonLine: line).linkDropText)
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        #expect(text == #"✗ \x1b[2J lost (rule\n) 10.77.0.2:1 → 10.77.0.1:2 [S\x07YN] seq 1 len 0"#)
    }
}
