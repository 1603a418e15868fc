import Testing
import SocketCore
@testable import Timeline

@Suite("Timeline merge")
struct TimelineMergeTests {
    func call(_ micros: Int64, _ duration: Double, _ text: String) -> TimelineEvent {
        .syscall(time: EpochTime(microseconds: micros), duration: duration, label: "client", pid: 1,
                 call: String(text.prefix { $0 != "(" }), text: text)
    }

    func packet(_ micros: Int64, _ step: String) -> TimelineEvent {
        TimelineEvent(type: "packet", time: EpochTime(microseconds: micros), fields: [("step", .string(step))])
    }

    func describe(_ events: [TimelineEvent]) -> [String] {
        TimelineMerge.merge(events).map { entry in
            let event = events[entry.event]
            switch entry.kind {
            case .point: return event.string("text") ?? event.string("step") ?? "?"
            case .callStart: return TimelineMerge.startText(event.string("text")!)
            case .callReturn: return TimelineMerge.returnText(event.string("text")!)
            }
        }
    }

    @Test func aCallThatContainsPacketsIsSplitAroundThem() {
        let events = [packet(110, "syn"), packet(150, "syn-ack"), packet(160, "ack"),
                      call(100, 0.000070, "connect(fd 3, 127.0.0.1:5000) -> 0"), call(300, 0.000001, "close(fd 3) -> 0")]
        #expect(describe(events) == ["connect(fd 3, 127.0.0.1:5000) ...", "syn", "syn-ack", "ack",
                                     "... connect() -> 0", "close(fd 3) -> 0"])
    }

    @Test func atTheSameMicrosecondTheStartComesFirstAndTheReturnLast() {
        let events = [packet(100, "syn"), packet(170, "ack"), call(100, 0.000070, "connect(fd 3, 127.0.0.1:5000) -> 0")]
        #expect(describe(events) == ["connect(fd 3, 127.0.0.1:5000) ...", "syn", "ack", "... connect() -> 0"])
    }

    @Test func aCallContainingNothingStaysOneLine() {
        let events = [call(100, 0.000005, "bind(fd 3, 127.0.0.1:0) -> 0"), packet(200, "syn")]
        #expect(describe(events) == ["bind(fd 3, 127.0.0.1:0) -> 0", "syn"])
    }

    @Test func parenthesesInsideQuotedDataDoNotEndTheCall() {
        let text = #"write(fd 1, "a) -> b\n", 7) -> 7"#
        #expect(TimelineMerge.startText(text) == #"write(fd 1, "a) -> b\n", 7) ..."#)
        #expect(TimelineMerge.returnText(text) == "... write() -> 7")
        #expect(TimelineMerge.returnText("connect(fd 3, 127.0.0.1:1) -> ECONNREFUSED (Connection refused)")
                == "... connect() -> ECONNREFUSED (Connection refused)")
    }

    @Test func traceLinesBecomeSyscallEventsOnTheRightDay() throws {
        let reference = Clock.now()
        let stamp = Clock.timeOfDay(reference)
        let event = try #require(TraceLine.event(stamp + " connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>",
                                                 near: reference, label: "client", pid: 7))
        #expect(event.time == reference)
        #expect(event.string("call") == "connect")
        #expect(event.string("text") == "connect(fd 3, 127.0.0.1:38633) -> 0")
        #expect(event.duration == 0.000312)
        #expect(TraceLine.event("client connected to 127.0.0.1:5000", near: reference, label: "c", pid: 1) == nil)
        // A stamp just before midnight, read just after it, is the previous day's.
        let later = reference.adding(seconds: 3)
        let back = try #require(TraceLine.epochTime(timeOfDay: Substring(stamp), near: later))
        #expect(back == reference)
        // A call that lasted 14 hours, read when it returned: its start is 14 hours earlier,
        // which is not the nearest moment with that time of day to the reading.
        let readAt = reference.adding(seconds: 14 * 3600)
        let long = try #require(TraceLine.event(stamp + " accept(fd 3) -> fd 4 from 127.0.0.1:1 <50400.000000>",
                                                near: readAt, label: "server", pid: 7))
        #expect(long.time == reference)
    }
}
