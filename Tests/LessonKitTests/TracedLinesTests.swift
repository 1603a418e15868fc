import Testing
@testable import LessonKit
import SocketCore
import Timeline

/// The lines `handshake-watch -- COMMAND` prints, read back as calls for a lesson's timeline.
@Suite struct TracedLinesTests {
    let near = Clock.epoch(timeOfDay: "20:04:58.500000", near: Clock.now())!

    @Test func aWholeCallAndACallInTwoHalvesBecomeCallsOfTheProgram() throws {
        var lines = TracedLines()
        let whole = try #require(lines.call("20:04:58.419600 [python3 4242] socket(AF_INET, SOCK_STREAM) -> fd 3 <0.000041>", near: near) ?? nil)
        #expect(whole.label == "python3 4242" && whole.int("pid") == 4242 && whole.string("call") == "socket")
        #expect(whole.duration == 0.000041)

        let first = lines.call("20:04:58.419800 [python3 4242/4250] connect(fd 3, 127.0.0.1:5000) ...", near: near)
        #expect(first != nil && first! == nil, "the first half is kept for its end")
        let joined = try #require(lines.call("20:04:58.420112 [python3 4242/4250] ... connect() -> 0 <0.000312>", near: near) ?? nil)
        #expect(joined.string("text") == "connect(fd 3, 127.0.0.1:5000) -> 0")
        #expect(joined.label == "python3 4242/4250" && joined.int("pid") == 4242)
        #expect(Clock.timeOfDay(joined.time) == "20:04:58.419800" && joined.duration == 0.000312)
    }

    @Test func otherLinesAreNotCalls() {
        var lines = TracedLines()
        #expect(lines.call("20:04:58.419875 #1 127.0.0.1:44806 → 127.0.0.1:5000 [SYN] seq 0", near: near) == nil)
        #expect(lines.call("20:04:58.419850 [kernel] 127.0.0.1:44806 CLOSE → SYN_SENT (connect(): ...)", near: near) == nil)
        #expect(lines.call("20:04:58.437310 [python3 4242] +++ exited with 0 +++", near: near)?.flatMap { $0 } == nil)
        #expect(lines.call("20:04:58.420112 [python3 4242] ... connect() -> 0 <0.000312>", near: near) == nil,
                "a return whose start was not seen is not a call")
    }

    @Test func theTraceAttributeIsKnown() throws {
        let lesson = try LessonParser().parse("""
            # T

            Intro.

            ## Step 1: One

            Text.

            ```run trace label=client
            python3 -c 'import socket'
            ```

            ## Exercises

            1. None.
            """, path: "t.md")
        guard case .run(let command)? = lesson.steps.first?.blocks.first else { Issue.record("no run block"); return }
        #expect(command.traced && command.label == "client")
        #expect(LessonRunner.shellQuoted("python3 -c 'x'") == #"'python3 -c '\''x'\'''"#)
    }
}
