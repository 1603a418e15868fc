import Testing
import Glibc
import SocketCore
@testable import Timeline

@Suite("Timeline events")
struct TimelineEventTests {
    let line = #"{"type":"syscall","time":1795642942.605001,"duration":0.000312,"label":"client","pid":4242,"call":"connect","text":"connect(fd 3, 127.0.0.1:38633) -> 0"}"#

    @Test func aLineReadsBackToTheSameLine() throws {
        let event = try TimelineEvent(jsonLine: line)
        #expect(event.type == "syscall")
        #expect(event.time == EpochTime(microseconds: 1_795_642_942_605_001))
        #expect(event.duration == 0.000312)
        #expect(event.end == EpochTime(microseconds: 1_795_642_942_605_313))
        #expect(event.jsonLine == line)
    }

    @Test func theConstructorWritesTheSchemaOrder() {
        let event = TimelineEvent.syscall(time: EpochTime(microseconds: 1_795_642_942_605_001), duration: 0.000312,
                                          label: "client", pid: 4242, call: "connect",
                                          text: "connect(fd 3, 127.0.0.1:38633) -> 0")
        #expect(event.jsonLine == line)
    }

    @Test func stringsAreEscapedAndTheRunsBetweenKeptWhole() throws {
        // A traced send's text: quotes and a backslash escaped, é and → as they are, a tab and
        // ESC as escapes, the plain runs between them unchanged.
        let text = "sendto(fd 3, \"a\\b\u{09}é→\u{1B}[\", 7) -> 7"
        let event = TimelineEvent(type: "syscall", time: EpochTime(microseconds: 1), fields: [("text", .string(text))])
        #expect(event.jsonLine == #"{"type":"syscall","time":0.000001,"text":"sendto(fd 3, \"a\\b\té→\u001b[\", 7) -> 7"}"#)
        #expect(try TimelineEvent(jsonLine: event.jsonLine).string("text") == text)
        #expect(TimelineEvent(type: "x", time: EpochTime(microseconds: 1), fields: [("t", .string(""))]).jsonLine
                == #"{"type":"x","time":0.000001,"t":""}"#)
    }

    @Test func unknownTypesPassThrough() throws {
        let kernel = #"{"type":"accept-queue","time":1795642950.100000,"local":"127.0.0.1","lport":35047,"queued":3,"backlog":2}"#
        #expect(try TimelineEvent(jsonLine: kernel).jsonLine == kernel)
    }

    @Test(arguments: ["[]", #"{"time":1}"#, #"{"type":"x"}"#, #"{"type":"x","time":"12:00"}"#, #"{"type":"x","time":1e9}"#])
    func badEventsAreRefused(_ text: String) {
        #expect(throws: TimelineEvent.ParseError.self) { try TimelineEvent(jsonLine: text) }
    }

    @Test func epochTimesPrintAndParseExactly() {
        #expect(EpochTime(microseconds: 4_294_967_294_999_999).description == "4294967294.999999")
        #expect(EpochTime(microseconds: -1).description == "-0.000001")
        #expect(EpochTime(microseconds: -1_500_000).description == "-1.500000")
        #expect(EpochTime(parsing: "-1.5") == EpochTime(microseconds: -1_500_000))
        #expect(EpochTime(parsing: "1795642942.6050309") == EpochTime(microseconds: 1_795_642_942_605_030))
        #expect(EpochTime(parsing: "1.") == nil)
        #expect(EpochTime(parsing: "x") == nil)
    }

    @Test func sidecarParsingListsBadLinesAndSkipsBlankOnes() {
        let contents = EventsFile.parse(line + "\n\nnot json\n" + #"{"type":"output","time":1.0,"label":"s","stream":"stdout","text":"hi"}"# + "\n")
        #expect(contents.events.count == 2)
        #expect(contents.rejected.map(\.line) == [3])
    }

    /// A sidecar edited on Windows: every CRLF line is an event, numbered as an editor shows it.
    @Test func sidecarWithCRLFEndsReadsAsWithLF() {
        let lf = line + "\n\nnot json\n" + #"{"type":"output","time":1.0,"label":"s","stream":"stdout","text":"hi"}"# + "\n"
        let crlf = EventsFile.parse(lf.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf.events == EventsFile.parse(lf).events)
        #expect(crlf.events.count == 2)
        #expect(crlf.rejected.map(\.line) == [3])
    }

    @Test func sidecarPaths() {
        #expect(EventsFile.sidecarPath(forCapture: "captures/echo-ipv4.pcap") == "captures/echo-ipv4.events.jsonl")
        #expect(EventsFile.sidecarPath(forCapture: "x.pcapng") == "x.events.jsonl")
        #expect(EventsFile.sidecarPath(forCapture: "dump") == "dump.events.jsonl")
    }

    @Test func sidecarWriteThenRead() throws {
        let path = "/tmp/timeline-test-\(getpid()).events.jsonl"
        defer { unlink(path) }
        let events = [try TimelineEvent(jsonLine: line),
                      TimelineEvent.output(time: EpochTime(microseconds: 5), label: "server", stream: "stdout", text: "a \"quoted\" line")]
        try EventsFile.write(events, to: path)
        let found = try EventsFile.read(path: path)
        let read = try #require(found)
        #expect(read.events == [events[1], events[0]])   // sorted by time
        #expect(try EventsFile.read(path: path + ".missing") == nil)
        #expect(throws: EventsFile.ReadError.self) { try EventsFile.read(path: "/dev/zero") }
    }
}
