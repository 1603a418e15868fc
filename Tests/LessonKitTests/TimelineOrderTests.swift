import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport
import Timeline
@testable import LessonKit

/// `expect order` and the merged timeline: the syntax, the check on events, and `lesson check`
/// failing a lesson whose claimed order is false, naming the two events.
@Suite struct TimelineOrderTests {
    // MARK: - Syntax

    @Test func ordinalsNameLaterMatches() throws {
        let order = try OrderExpectation(lines: ["[a] x", "{2nd} [b] y", "{last} [c] z", "{11th} [d] w"], only: nil, timeout: 1)
        #expect(order.events.map(\.occurrence) == [.nth(1), .nth(2), .last, .nth(11)])
        #expect(order.events.map(\.line.text) == ["[a] x", "[b] y", "[c] z", "[d] w"])
        #expect(order.events[1].description == "{2nd} [b] y")
    }

    @Test(arguments: [
        ("# T\n## Step 1: a\n```run\nx\n```\n```expect order\n[run] a\n[run] b\n```\n", "put one before it"),
        ("# T\n## Step 1: a\n```run\nx\n```\n```timeline labels=x\n```\n```expect order\n[run] a\n```\n", "at least two lines"),
        ("# T\n## Step 1: a\n```run\nx\n```\n```timeline labels=x\n```\n```expect order\n[run] a\nno label\n```\n", "starts with the [label]"),
        ("# T\n## Step 1: a\n```run\nx\n```\n```timeline labels=x\n```\n```expect order\n{2th} [run] a\n[run] b\n```\n", "{2nd}"),
    ])
    func badOrderBlocksAreFormatErrors(text: String, message: String) {
        do {
            _ = try LessonParser().parse(text, path: "broken.md")
            Issue.record("parsed: \(text)")
        } catch let error as LessonError {
            #expect(error.description.hasPrefix("broken.md:"))
            #expect(error.description.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func anOrderBlockIsReadWithItsAttributes() throws {
        let lesson = try LessonParser().parse("""
            # T
            ## Step 1: a
            ```run label=client
            x
            ```
            ```timeline labels=client
            ```
            ```expect order live timeout=3
            [client] connect(fd {n}) ...
            [client] ... connect() -> 0
            ```
            """)
        guard case .order(let order) = lesson.steps[0].blocks.last else { Issue.record("no order block"); return }
        #expect(order.only == .live)
        #expect(order.timeout == 3)
        #expect(order.events.count == 2)
    }

    // MARK: - Events and the check

    static let base: Int64 = 1_795_642_942_000_000

    static func call(_ offset: Int64, _ duration: Double, _ label: String, _ text: String) -> TimelineEvent {
        .syscall(time: EpochTime(microseconds: base + offset), duration: duration, label: label, pid: 1,
                 call: String(text.prefix { $0 != "(" }), text: text)
    }

    static func packet(_ offset: Int64, _ text: String) -> TimelineEvent {
        TimelineEvent(type: "line", time: EpochTime(microseconds: base + offset),
                      fields: [("label", .string("watch")), ("text", .string(text))])
    }

    static let handshake = [
        "[client] connect(fd {n}, 127.0.0.1:{port}) ...", "[watch] #1 {any}[SYN] seq 0",
        "[watch] #1 {any}[SYN,ACK]", "[watch] #1 {any}[ACK] seq 1 ack 1 len 0", "[client] ... connect() -> 0",
    ]

    func events(ackAt ack: Int64) -> [TimelineEvent] {
        [Self.call(0, 0.000300, "client", "connect(fd 3, 127.0.0.1:5000) -> 0"),
         Self.packet(100, "#1 127.0.0.1:40000 → 127.0.0.1:5000 [SYN] seq 0 len 0"),
         Self.packet(200, "#1 127.0.0.1:5000 → 127.0.0.1:40000 [SYN,ACK] seq 0 ack 1 len 0"),
         Self.packet(ack, "#1 127.0.0.1:40000 → 127.0.0.1:5000 [ACK] seq 1 ack 1 len 0"),
         Self.call(400, 0.000002, "client", "close(fd 3) -> 0")]
    }

    @Test func aCallIsTwoEventsForOrderEvenOnOneLine() throws {
        let timeline = MergedTimeline(events(ackAt: 250))
        #expect(timeline.lines.contains { $0.hasSuffix("[client] " + Clock.timeOfDay(EpochTime(microseconds: Self.base)) + " connect(fd 3, 127.0.0.1:5000) ...") })
        #expect(timeline.lines.contains { $0.hasSuffix("... connect() -> 0 <0.000300>") })
        #expect(timeline.lines.contains { $0.hasSuffix("close(fd 3) -> 0 <0.000002>") })   // contains nothing: one line
        #expect(timeline.items.map(\.text).suffix(2) == ["[client] close(fd 3) ...", "[client] ... close() -> 0"])
        let order = try OrderExpectation(lines: Self.handshake, only: nil, timeout: 1)
        #expect(try order.failure(in: timeline.items, values: [:]) == nil)
    }

    @Test func aFalseOrderFailsNamingBothEvents() throws {
        let timeline = MergedTimeline(events(ackAt: 350))   // the ACK after connect() returned
        let order = try OrderExpectation(lines: Self.handshake, only: nil, timeout: 1)
        let failure = try #require(try order.failure(in: timeline.items, values: [:]))
        #expect(failure.contains("expected [watch] #1 {any}[ACK] seq 1 ack 1 len 0 before [client] ... connect() -> 0, but it came after it"), "\(failure)")
        #expect(failure.contains("... connect() -> 0 <0.000300>"))
        #expect(failure.contains("[ACK] seq 1 ack 1 len 0"))
    }

    @Test func aLaterMatchNeverRescuesAWrongOrder() throws {
        // Two connect() calls: the first returns before its ACK; the second's return comes after.
        var all = events(ackAt: 350)
        all.append(Self.call(1000, 0.000100, "client", "connect(fd 4, 127.0.0.1:5000) -> 0"))
        let order = try OrderExpectation(lines: Self.handshake, only: nil, timeout: 1)
        #expect(try order.failure(in: MergedTimeline(all).items, values: [:]) != nil)
        let last = try OrderExpectation(lines: ["[watch] {any}[ACK] seq 1", "{last} [client] ... connect() -> 0"], only: nil, timeout: 1)
        #expect(try last.failure(in: MergedTimeline(all).items, values: [:]) == nil)
    }

    @Test func aMissingEventIsReported() throws {
        let order = try OrderExpectation(lines: ["[client] connect(", "{2nd} [watch] [SYN]"], only: nil, timeout: 1)
        let failure = try #require(try order.failure(in: MergedTimeline(events(ackAt: 250)).items, values: [:]))
        #expect(failure.contains("MISSING {2nd} [watch] [SYN]"), "\(failure)")
    }

    // MARK: - A process's lines as events

    @Test func stdoutLinesTakeTheStampOfTheirTracedWrite() throws {
        let now = Clock.now()
        let stamp = Clock.timeOfDay(now)
        let lines: [ChildProcess.Line] = [
            .init(stream: .stdout, text: "banner from echo", time: now),
            .init(stream: .stdout, text: "server Connected by 127.0.0.1:44806", time: now),
            .init(stream: .stderr, text: #"\#(stamp) write(fd 1, "server Connected by 127.0.0.1:44806\n", 36) -> 36 <0.000004>"#, time: now),
            .init(stream: .stderr, text: #"\#(stamp) write(fd 1, "tab\there \"q\" \303\251\n", 15) -> 15 <0.000004>"#, time: now),
            .init(stream: .stdout, text: "tab\there \"q\" é", time: now),
            .init(stream: .stderr, text: "echo-server: a message without a stamp", time: now),
        ]
        let events = ProcessEvents.events(label: "server", pid: 9, lines: lines)
        let outputs = events.filter { $0.type == "output" }
        #expect(outputs.map { $0.string("text") } == ["server Connected by 127.0.0.1:44806", "tab\there \"q\" é"])
        #expect(outputs.allSatisfy { $0.time == now })
        #expect(!events.contains { $0.string("call") == "write" })
        #expect(events.count == 2)
    }

    @Test func aWriteMatchingNoLineStaysACall() throws {
        let now = Clock.now()
        let lines: [ChildProcess.Line] = [
            .init(stream: .stderr, text: #"\#(Clock.timeOfDay(now)) write(fd 1, "never seen\n", 11) -> 11 <0.000004>"#, time: now),
        ]
        let events = ProcessEvents.events(label: "server", pid: 9, lines: lines)
        #expect(events.map(\.type) == ["syscall"])
    }

    @Test func cutStringsMatchByTheirStart() throws {
        let (bytes, cut) = try #require(StdoutWrite.unquote(#""abc\0012\n"..."#))
        #expect(bytes == Array("abc".utf8) + [1, UInt8(ascii: "2"), 10])
        #expect(cut)
    }

    // MARK: - lesson check on real processes

    /// A lesson whose two commands print a trace line and packet lines at stamps of the test's
    /// choosing (microseconds within the current second), then claims the handshake's order.
    static func stampedLesson(ackMicros: Int) -> String {
        """
        # Order

        ## Step 1: Made-up events

        ```run label=client
        base=$(date +%H:%M:%S)
        echo "$base" > DIR/base
        echo "$base.100000 connect(fd 3, 127.0.0.1:5000) -> 0 <0.000300>" >&2
        ```

        ```run label=watch
        base=$(cat DIR/base)
        echo "$base.100100 #1 127.0.0.1:40000 → 127.0.0.1:5000 [SYN] seq 0 len 0"
        echo "$base.100200 #1 127.0.0.1:5000 → 127.0.0.1:40000 [SYN,ACK] seq 0 ack 1 len 0"
        echo "$base.\(ackMicros) #1 127.0.0.1:40000 → 127.0.0.1:5000 [ACK] seq 1 ack 1 len 0"
        ```

        ```timeline labels=watch,client
        ```

        ```expect order timeout=2
        [client] connect(fd {n}, 127.0.0.1:{port}) ...
        [watch] #1 {any}[SYN] seq 0
        [watch] #1 {any}[SYN,ACK] seq 0 ack 1
        [watch] #1 {any}[ACK] seq 1 ack 1 len 0
        [client] ... connect() -> 0
        ```

        ## Exercises

        None.
        """
    }

    @Test func lessonCheckPassesATrueOrderAndShowsTheSpan() throws {
        let lesson = try TemporaryLesson(Self.stampedLesson(ackMicros: 100250))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file, "--verbose"], timeout: 60)
        #expect(result.status == 0, "\(result.stdout.joined(separator: "\n"))\n\(result.stderr.joined(separator: "\n"))")
        let shown = result.stdout.filter { $0.hasPrefix("  [") }
        let connect = try #require(shown.firstIndex { $0.contains("connect(fd 3, 127.0.0.1:5000) ...") })
        let syn = try #require(shown.firstIndex { $0.contains("[SYN] seq 0") })
        let back = try #require(shown.firstIndex { $0.contains("... connect() -> 0 <0.000300>") })
        #expect(connect < syn && syn < back, "\(shown)")
    }

    @Test func lessonCheckFailsAFalseOrderNamingTheTwoEvents() throws {
        let lesson = try TemporaryLesson(Self.stampedLesson(ackMicros: 100900))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 60)
        #expect(result.status == 1)
        let error = result.stderr.joined(separator: "\n")
        #expect(error.contains("step 1 \"Made-up events\": timeline: expected [watch] #1 {any}[ACK] seq 1 ack 1 len 0 before [client] ... connect() -> 0, but it came after it"), "\(error)")
        #expect(error.contains(".100300 ... connect() -> 0 <0.000300>"), "\(error)")
        #expect(error.contains(".100900 #1 127.0.0.1:40000 → 127.0.0.1:5000 [ACK]"), "\(error)")
    }
}
