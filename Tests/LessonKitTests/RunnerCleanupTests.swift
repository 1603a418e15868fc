import Foundation
import Glibc
import Testing
import TestSupport

/// The runner's promise: whatever a lesson started is stopped, at the end, on a failing step and
/// on Ctrl-C, and its temporary folder is removed. Each test runs the built `lesson` on a small
/// lesson file with a real echo-server in the background, and checks the pids afterwards.
@Suite struct RunnerCleanupTests {
    /// A server, a background sleeper in its own group, markers for the test, then `tail`.
    static func lesson(tail: String) -> String {
        """
        # Cleanup test

        ```cleanup
        touch DIR/cleaned
        ```

        ## Step 1: A server

        ```run background label=server ready="server start, listening"
        echo-server --port 0
        ```

        ```run background label=sleeper ready="sleeping"
        echo $$ > DIR/sleeper.pid
        echo sleeping
        exec sleep 300
        ```

        ```run label=marker
        echo {pid:server} > DIR/server.pid
        echo {tmp} > DIR/tmp.path
        echo "hello from {port:server}"
        ```

        ## Step 2: The end

        \(tail)
        """
    }

    /// Checks that the lesson's server, sleeper and temp folder are gone and cleanup ran.
    func expectEverythingStopped(_ lesson: TemporaryLesson, extra: [Int32] = []) throws {
        let server = try #require(lesson.number("server.pid"))
        let sleeper = try #require(lesson.number("sleeper.pid"))
        for pid in [server, sleeper] + extra {
            #expect(Processes.waitUntilGone(pid), "process \(pid) is still running")
        }
        let temporary = try #require(lesson.text("tmp.path"))
        #expect(temporary.hasPrefix("/tmp/sockettutor-lesson-"))
        #expect(!FileManager.default.fileExists(atPath: temporary), "temporary folder left behind")
        #expect(lesson.exists("cleaned"), "cleanup script did not run")
    }

    @Test func aFailingExpectationStopsEverythingAndNamesTheStep() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run label=client
            echo-client --port {port:server} hello
            ```

            ```expect
            client Received: b'hello'
            goodbye
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        let errors = result.stderr.joined(separator: "\n")
        #expect(errors.contains("01-test.md), step 2 \"The end\": [client]"), "\(errors)")
        #expect(errors.contains("found   client Received: b'hello'"), "\(errors)")
        #expect(errors.contains("MISSING goodbye"), "\(errors)")
        #expect(errors.contains("| closing connection to the server"), "the output should be shown: \(errors)")
        #expect(result.stdout.contains { $0.contains("FAILED") })
        try expectEverythingStopped(lesson)
    }

    @Test func aCommandFailingStopsEverything() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run label=client
            echo-client --port 1 hello
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        let errors = result.stderr.joined(separator: "\n")
        #expect(errors.contains("[client] exited with status 1, expected 0"), "\(errors)")
        #expect(errors.contains("ECONNREFUSED"), "\(errors)")
        try expectEverythingStopped(lesson)
    }

    @Test func aCommandThatHangsIsStoppedAtItsTimeout() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run label=hang timeout=1
            echo $$ > DIR/hang.pid
            exec sleep 300
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.joined().contains("[hang] did not finish within 1 s"))
        try expectEverythingStopped(lesson, extra: [try #require(lesson.number("hang.pid"))])
    }

    @Test func aServerThatNeverGetsReadyFailsTheStep() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run background label=mute ready="never printed" timeout=1
            echo $$ > DIR/mute.pid
            exec sleep 300
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.joined().contains("[mute] was to print \"never printed\" when ready, but printed nothing like it within 1 s"))
        try expectEverythingStopped(lesson, extra: [try #require(lesson.number("mute.pid"))])
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalInTheMiddleStopsEverything(signal: Int32) throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run label=waiting timeout=120
            echo $$ > DIR/waiting.pid
            echo "waiting for the signal"
            exec sleep 100
            ```
            """))
        defer { lesson.remove() }
        let runner = try ToolProcess("lesson", ["run", lesson.file, "--auto"])
        _ = try runner.waitForLine(containing: "[waiting] waiting for the signal", timeout: 120)
        let waiting = try #require(lesson.number("waiting.pid"))
        #expect(Processes.isAlive(waiting))
        #expect(Processes.isAlive(try #require(lesson.number("server.pid"))))
        runner.signal(signal)
        let status = try runner.waitForExit(timeout: 120)
        #expect(status == 128 + signal)
        #expect(runner.stderr.contains { $0.contains("stopping everything it started") })
        try expectEverythingStopped(lesson, extra: [waiting])
    }

    @Test func quittingAtThePromptStopsEverything() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run
            echo "step 2 ran"
            ```
            """))
        defer { lesson.remove() }
        let runner = try ToolProcess("lesson", ["run", lesson.file])
        _ = try runner.waitForLine(containing: "[Enter: run step 1, q: quit]")
        runner.write("\n")
        _ = try runner.waitForLine(containing: "[Enter: run step 2, q: quit]")
        runner.write("q\n")
        #expect(try runner.waitForExit(timeout: 120) == 0)
        #expect(!runner.stdout.contains { $0.contains("step 2 ran") })
        try expectEverythingStopped(lesson)
    }

    @Test func interactiveRunGoesOnAtEachEnter() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run
            echo "step 2 ran"
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", lesson.file], stdin: "\n\n", timeout: 120)
        #expect(result.status == 0)
        #expect(result.stdout.contains { $0.contains("[marker] hello from ") })
        #expect(result.stdout.contains("[echo] step 2 ran"))
        #expect(result.stdout.contains { $0.contains("End of lesson 1") })
        try expectEverythingStopped(lesson)
    }

    @Test func startingAtALaterStepRunsTheEarlierOnesQuietly() throws {
        let lesson = try TemporaryLesson(Self.lesson(tail: """
            ```run
            echo "server is on {port:server}"
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", lesson.file, "--auto", "--step", "2"], timeout: 120)
        #expect(result.status == 0)
        // Step 1 ran (its server's port is known) but was not shown.
        #expect(result.stdout.contains { $0.hasPrefix("[echo] server is on ") })
        #expect(!result.stdout.contains { $0.contains("Step 1/2") || $0.contains("[marker]") })
        #expect(result.stdout.contains { $0.contains("Step 2/2: The end") })
        try expectEverythingStopped(lesson)
    }

    @Test func listShowsEveryLessonInOrder() throws {
        let result = try runCommand("lesson", ["list"])
        #expect(result.status == 0)
        let numbers = result.stdout.compactMap { Int($0.prefix(2).trimmingCharacters(in: .whitespaces)) }
        #expect(numbers.count >= 10 && numbers == Array(1...numbers.count))
        #expect(result.stdout[2].contains("The three-way handshake, live"))
    }

    @Test func unknownLessonIsOneClearLine() throws {
        let result = try runCommand("lesson", ["run", "99", "--auto"])
        #expect(result.status == 1)
        #expect(result.stderr == ["lesson: no lesson 99 in \(packageRoot.path)/lessons (`lesson list` shows them)"])
    }
}
