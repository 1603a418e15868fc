import Testing
@testable import LessonKit

/// The lesson format, read from small Markdown texts.
@Suite struct LessonParserTests {
    let sample = """
        # A sample lesson

        Some introduction.

        ## Step 1: Start a server

        The server explained.

        ```run background label=server ready="server start, listening"
        echo-server --port 0
        ```

        ```expect stream=stdout timeout=3
        server start, listening 127.0.0.1:{port:server}
        ```

        Prose after the expectation.

        ## Step 2: Connect

        ```swift
        let shown = "only shown"
        ```

        ```run root label=watch
        handshake-watch -i lo port {port:server}
        ```

        ```fallback timeout=5
        handshake-watch -r captures/echo-ipv4.pcap
        ```

        ```run status=1
        ip netns exec st-client echo-client --port 1 hi
        ```

        ```expect absent
        Traceback
        ```

        ```expect label=watch live
        [SYN]
        ```

        ```timeline labels=watch,server
        ```

        ```expect
        [watch]
        ```

        ```stop label=server signal=INT
        ```

        ```cleanup
        rm -f /tmp/nothing
        ```

        ## Exercises

        1. Do something.
        """

    @Test func readsTitleIntroductionStepsAndClosing() throws {
        let lesson = try LessonParser().parse(sample, path: "03-sample.md", number: 3)
        #expect(lesson.title == "A sample lesson")
        #expect(lesson.introduction == "Some introduction.")
        #expect(lesson.steps.map(\.number) == [1, 2])
        #expect(lesson.steps.map(\.title) == ["Start a server", "Connect"])
        #expect(lesson.steps[0].explanation == "The server explained.")
        #expect(lesson.closing.hasPrefix("## Exercises"))
        #expect(lesson.closing.contains("1. Do something."))
        #expect(lesson.cleanup == ["rm -f /tmp/nothing"])
        #expect(lesson.needsRoot)
    }

    @Test func readsRunAttributes() throws {
        let lesson = try LessonParser().parse(sample)
        let server = try #require(lesson.steps[0].commands.first)
        #expect(server.label == "server")
        #expect(server.background)
        #expect(server.ready == "server start, listening")
        #expect(!server.needsRoot)
        #expect(server.expectedStatus == 0)
        #expect(server.timeout == 15)
        #expect(server.script == "echo-server --port 0")
    }

    @Test func attachesTheFallbackToTheRootCommand() throws {
        let lesson = try LessonParser().parse(sample)
        let watch = try #require(lesson.steps[1].commands.first)
        #expect(watch.needsRoot)
        #expect(watch.fallback?.script == "handshake-watch -r captures/echo-ipv4.pcap")
        #expect(watch.fallback?.timeout == 5)
    }

    @Test func defaultLabelIsTheProgramNameBehindWrappers() throws {
        let lesson = try LessonParser().parse(sample)
        let client = lesson.steps[1].commands[1]
        #expect(client.label == "echo-client")
        #expect(client.expectedStatus == 1)
        #expect(LessonParser.defaultLabel(for: "# a comment\n/usr/bin/curl -s x") == "curl")
        #expect(LessonParser.defaultLabel(for: "NO_COLOR=1 sudo ss -tln") == "ss")
    }

    @Test func expectationsTakeTheLabelOfTheCommandBefore() throws {
        let lesson = try LessonParser().parse(sample)
        let expectations = lesson.steps.flatMap(\.blocks).compactMap { block -> LessonKit.Expectation? in
            if case .expect(let expectation) = block { expectation } else { nil }
        }
        #expect(expectations.map(\.label) == ["server", "echo-client", "watch", "timeline"])
        #expect(expectations[0].stream == .stdout)
        #expect(expectations[0].timeout == 3)
        #expect(expectations[1].absent)
        #expect(expectations[2].only == .live)
        #expect(expectations[0].lines == [ExpectedLine("server start, listening 127.0.0.1:{port:server}")])
    }

    @Test func keepsProseBetweenBlocksInPlace() throws {
        let lesson = try LessonParser().parse(sample)
        let prose = lesson.steps[0].blocks.compactMap { block -> String? in
            if case .prose(let text) = block { text } else { nil }
        }
        #expect(prose == ["Prose after the expectation."])
        // An ordinary code block is part of the explanation, shown, never run.
        #expect(lesson.steps[1].explanation.contains("let shown = \"only shown\""))
        #expect(lesson.steps[1].commands.count == 2)
    }

    @Test func readsTimelineAndStop() throws {
        let lesson = try LessonParser().parse(sample)
        var sawTimeline = false, sawStop = false
        for block in lesson.steps[1].blocks {
            if case .timeline(let labels) = block { #expect(labels == ["watch", "server"]); sawTimeline = true }
            if case .stop(let label, let signal) = block { #expect(label == "server"); #expect(signal == 2); sawStop = true }
        }
        #expect(sawTimeline && sawStop)
    }

    @Test(arguments: [
        ("# T\n## Step 2: wrong\n", "step 2 should be numbered 1"),
        ("# T\n## Step 1: a\n```run\nx\n", "code block is never closed"),
        ("# T\n## Step 1: a\n```fallback\nx\n```\n", "must follow a ```run root block"),
        ("# T\n## Step 1: a\n```expect\nx\n```\n", "no label= and no command before it"),
        ("# T\n## Step 1: a\n```run\nx\n```\n```expect label=nobody\ny\n```\n", "no command has that label"),
        ("# T\n## Step 1: a\n```run ready=\"x\"\nx\n```\n", "ready= only makes sense with background"),
        ("# T\n## Step 1: a\n```run status=maybe\nx\n```\n", "status= must be a number from 0 to 255, or any"),
        ("# T\n## Step 1: a\n```run label=\"open\nx\n```\n", "unterminated quote"),
        ("# T\n```run\nx\n```\n## Step 1: a\n", "must be inside a `## Step N: title` section"),
        ("No title\n## Step 1: a\n", "a lesson starts with a `# Title` line"),
        ("# T\nNo steps.\n", "no `## Step 1: title` section"),
        // Found by the fuzz target `lesson` (Fuzz/Corpus/lesson/regression-empty-label).
        ("# T\n## Step 1: a\n```run label= T\nx\n```\n", "has no attribute `T`"),   // the stray word is caught first
        ("# T\n## Step 1: a\n```run label=\"\"\nx\n```\n", "label= needs a name"),
    ])
    func rejectsBrokenLessonsWithFileAndLine(text: String, message: String) {
        do {
            _ = try LessonParser().parse(text, path: "broken.md")
            Issue.record("parsed a broken lesson: \(text)")
        } catch let error as LessonError {
            #expect(error.description.hasPrefix("broken.md:"))
            #expect(error.description.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func statusAnyAcceptsEveryStatus() throws {
        let lesson = try LessonParser().parse("# T\n## Step 1: a\n```run status=any\nfalse\n```\n")
        #expect(lesson.steps[0].commands[0].expectedStatus == nil)
    }
}
