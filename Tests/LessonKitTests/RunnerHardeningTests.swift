import Foundation
import Glibc
import LessonKit
import Testing
import TestSupport

/// The lesson runner under hostile lessons and commands: numbers out of range, a line of 30 MB,
/// 100 MB of output, expectations built to make a backtracking matcher explode, a process that
/// answers SIGTERM by starting a copy of itself, CRLF files, misnamed files.
@Suite struct RunnerHardeningTests {
    static func lesson(_ block: String) -> String {
        """
        # Hardening test

        ## Step 1: One command

        \(block)
        """
    }

    @Test(arguments: ["1e18", "inf", "1e309", "9223372036854775807", "3601", "0", "-1", "nan"])
    func aTimeoutOutOfRangeIsRefusedWithItsLine(value: String) throws {
        for block in ["```run timeout=\(value)\ntrue\n```",
                      "```run background timeout=\(value) ready=x\necho x\n```",
                      "```run\necho hi\n```\n\n```expect timeout=\(value)\nhi\n```"] {
            #expect(throws: LessonError.self) { try LessonParser().parse(Self.lesson(block), path: "t.md", number: 1) }
            let lesson = try TemporaryLesson(Self.lesson(block))
            defer { lesson.remove() }
            let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
            #expect(result.status == 1)
            let errors = result.stderr.joined(separator: "\n")
            #expect(errors.contains("01-test.md:") && errors.contains("timeout= must be a number of seconds, more than 0 and at most 3600"),
                    "\(errors)")
        }
    }

    @Test func aLineOfThirtyMegabytesIsReadInOnePass() throws {
        let lesson = try TemporaryLesson(Self.lesson("""
            ```run label=long
            head -c 30000000 /dev/zero | tr '\\0' a; echo; echo done
            ```

            ```expect
            done
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 300)
        #expect(result.status == 0, "\(result.stderr.joined(separator: "\n").prefix(2000))")
    }

    @Test func aLongLineIsKeptCutWithTheBytesLeftOutNamed() throws {
        let child = try ChildProcess(label: "long", script: "head -c 3000000 /dev/zero | tr '\\0' b; echo", strict: true,
                                     environment: ["PATH": "/usr/bin:/bin"], onLine: { _ in })
        #expect(child.waitForExit(timeout: 60) == 0)
        let lines = child.lines()
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix(String(repeating: "b", count: 1000)))
        #expect(line.hasSuffix("[… \(3_000_000 - ChildProcess.maxLineBytes) more bytes of this line not kept]"))
    }

    @Test func outputBeyondTheWindowIsDroppedFromViewAndCounted() throws {
        let total = ChildProcess.keptLines + 10_000
        let child = try ChildProcess(label: "many", script: "seq 1 \(total)", strict: true,
                                     environment: ["PATH": "/usr/bin:/bin"], onLine: { _ in })
        #expect(child.waitForExit(timeout: 120) == 0)
        let lines = child.lines()
        #expect(lines.count == ChildProcess.keptLines)
        #expect(lines.last == "\(total)")
        #expect(child.droppedLines == 10_000)
    }

    @Test func manyAnyPlaceholdersMatchInLinearTime() throws {
        // 12 `{any}a` then `{any}b` against 40 a's: a backtracking matcher takes minutes; the
        // pattern cannot match (no b), and the answer must come.
        let pattern = String(repeating: "{any}a", count: 12) + "{any}b"
        let line = String(repeating: "a", count: 40)
        #expect(try !ExpectedLine(pattern).matches(line, values: [:]))
        #expect(try ExpectedLine(pattern).matches(line + "b", values: [:]))
        let long = String(repeating: "a", count: 200_000)
        #expect(try !ExpectedLine(pattern).matches(long, values: [:]))
    }

    @Test func aProcessThatRespawnsOnSIGTERMIsStoppedForGood() throws {
        let marker = "respawn-\(getpid())-\(Int.random(in: 1000...9999))"
        let lesson = try TemporaryLesson(Self.lesson("""
            ```run background label=respawner ready=started
            cat > DIR/self.sh <<'SCRIPT'
            trap 'setsid bash DIR/self.sh \(marker) & exit 0' TERM
            while true; do sleep 0.05; done
            SCRIPT
            setsid bash DIR/self.sh \(marker) &
            echo started
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stderr.joined(separator: "\n"))")
        let left = try runCommand("/usr/bin/pgrep", ["-f", "self.sh \(marker)"], timeout: 60)
        #expect(left.stdout.isEmpty, "still running: \(left.stdout)")
        if !left.stdout.isEmpty { _ = try? runCommand("/usr/bin/pkill", ["-9", "-f", "self.sh \(marker)"], timeout: 60) }
    }

    @Test func aLessonWithCRLFLineEndsReadsAsWithLF() throws {
        let text = Self.lesson("```run\necho hi\n```\n\n```expect\nhi\n```\n")
        let lf = try LessonParser().parse(text, path: "t.md", number: 1)
        let crlf = try LessonParser().parse(text.replacingOccurrences(of: "\n", with: "\r\n"), path: "t.md", number: 1)
        #expect(crlf.title == lf.title)
        #expect(crlf.steps.count == 1)
        #expect(crlf.steps.map(\.title) == lf.steps.map(\.title))
        #expect("\(crlf.steps[0].blocks)" == "\(lf.steps[0].blocks)")
    }

    @Test func aLessonFileNotNamedWithItsNumberIsRefused() throws {
        let lesson = try TemporaryLesson(Self.lesson("```run\ntrue\n```"))
        defer { lesson.remove() }
        let renamed = lesson.folder + "/lesson.md"
        try FileManager.default.moveItem(atPath: lesson.file, toPath: renamed)
        let result = try runCommand("lesson", ["check", renamed], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.joined().contains("a lesson file is named NN-title.md"), "\(result.stderr)")
    }

    @Test func anUnknownPlaceholderIsAnErrorWithItsLine() throws {
        let block = "```run\necho hi\n```\n\n```expect\nh{anny}i\n```"
        #expect(throws: LessonError.format(path: "t.md", line: 10, message: "\(LessonError.badPlaceholder("anny"))")) {
            try LessonParser().parse(Self.lesson(block), path: "t.md", number: 1)
        }
    }
}

/// What the runner shows: every check it makes, lessons with nothing checked, and program output
/// that cannot drive the teacher's terminal.
@Suite struct RunnerShowsWhatItDoesTests {
    @Test func everyExpectationThatHeldPrintsACheckedLine() throws {
        let lesson = try TemporaryLesson(RunnerHardeningTests.lesson("""
            ```run label=greeter
            echo hello; echo world
            ```

            ```expect
            hello
            world
            ```

            ```expect absent
            goodbye
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", "--verbose", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("✓ checked: [greeter] hello · world"), "\(result.stdout)")
        #expect(result.stdout.contains("✓ checked: [greeter] never printed \"goodbye\""), "\(result.stdout)")
        #expect(result.stdout.contains { $0.contains("ok, 1 steps, 2 checks in") }, "\(result.stdout)")
    }

    @Test func aLessonWhoseEveryCommandWasSkippedIsNotOk() throws {
        let lesson = try TemporaryLesson(RunnerHardeningTests.lesson("""
            ```run root label=rooted
            echo only as root
            ```

            ```expect
            only as root
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", "--from-captures", lesson.file], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stdout.contains { $0.contains("skipped (needs root)") }, "\(result.stdout)")
        #expect(!result.stdout.contains { $0.contains(": ok") }, "\(result.stdout)")
        #expect(result.stderr.contains { $0.contains("nothing was checked") }, "\(result.stderr)")
    }

    @Test func controlCharactersInProgramOutputAreEscaped() throws {
        let lesson = try TemporaryLesson(RunnerHardeningTests.lesson("""
            ```run label=hostile
            printf 'a\\033]0;TITLE\\007b\\033[2Jc\\033]52;c;aGk=\\007d\\n'
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", "--auto", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let shown = result.stdout.joined(separator: "\n")
        #expect(!shown.contains("\u{1B}]") && !shown.contains("\u{07}") && !shown.contains("\u{1B}[2J"), "\(shown)")
        #expect(shown.contains("[hostile] a\\x1b]0;TITLE\\x07b\\x1b[2Jc\\x1b]52;c;aGk=\\x07d"), "\(shown)")
    }

    @Test func ourColourCodesSurviveTheEscaping() {
        #expect(Terminal.escapingControls("\u{1B}[32mgreen\u{1B}[0m \u{1B}[2J") == "\u{1B}[32mgreen\u{1B}[0m \\x1b[2J")
        #expect(Terminal.escapingControls("tab\tstays, DEL \u{7F} and C1 \u{9B} do not") == "tab\tstays, DEL \\x7f and C1 \\x9b do not")
    }
}

/// The lesson format, strict where it used to be silent.
@Suite struct StrictLessonFormatTests {
    @Test func aTimelineLabelNoCommandHasIsAnError() {
        let text = RunnerHardeningTests.lesson("```run label=server\necho hi\n```\n\n```timeline labels=server,clinet\n```")
        #expect(throws: LessonError.format(path: "t.md", line: 9, message: "```timeline labels=: no command before it is labelled clinet")) {
            try LessonParser().parse(text, path: "t.md", number: 1)
        }
    }

    @Test func proseForOneModeIsShownInThatModeOnly() throws {
        let lesson = try TemporaryLesson(RunnerHardeningTests.lesson("""
            ```run
            echo hi
            ```

            ```prose live
            Said only live.
            ```

            ```prose replay
            Said only on a replay.
            ```
            """))
        defer { lesson.remove() }
        let live = try runCommand("lesson", ["run", "--auto", lesson.file], timeout: 120)
        let replay = try runCommand("lesson", ["run", "--auto", "--from-captures", lesson.file], timeout: 120)
        #expect(live.status == 0 && replay.status == 0)
        if Privileges.isRoot {
            #expect(live.stdout.contains("Said only live.") && !live.stdout.contains("Said only on a replay."), "\(live.stdout)")
        }
        #expect(replay.stdout.contains("Said only on a replay.") && !replay.stdout.contains("Said only live."), "\(replay.stdout)")
        #expect(throws: LessonError.self) {
            try LessonParser().parse(RunnerHardeningTests.lesson("```prose\ntext\n```"), path: "t.md", number: 1)
        }
    }

    @Test func outputArrivingAfterItsStepIsShownAsLate() throws {
        let lesson = try TemporaryLesson("""
            # Late

            ## Step 1: A talker

            ```run background label=talker ready=first
            echo first; while [ ! -e DIR/go ]; do sleep 0.01; done; echo second
            ```

            ## Step 2: Later

            Step two's prose.

            ```run label=trigger
            touch DIR/go
            ```

            ```expect label=talker
            second
            ```

            ```run label=after
            echo after
            ```
            """)
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", "--auto", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout
        let late = try #require(lines.firstIndex(of: "(late output of step 1)"), "\(lines)")
        #expect(lines[late + 1] == "[talker] second")
        let heading = try #require(lines.firstIndex { $0.contains("Step 2/2") })
        #expect(late > heading)
    }
}

/// Everything the runner prints fits the width it is given, and nothing is cut.
@Suite struct RunnerWidthTests {
    @Test func longOutputLinesWrapWithAHangingIndentAndLoseNothing() throws {
        let words = (1...40).map { "word\($0)" }.joined(separator: " ")
        let path = "/" + String(repeating: "p", count: 150)
        let lesson = try TemporaryLesson(RunnerHardeningTests.lesson("""
            ```run label=long
            echo "\(words)"; echo "\(path)"
            ```

            ```expect
            word1 word2
            ```
            """))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", "--auto", "--width", "60", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        for line in result.stdout { #expect(line.count <= 60, "over 60 columns: \(line)") }
        let start = try #require(result.stdout.firstIndex { $0.hasPrefix("[long] word1 ") })
        var joined = ""
        var index = start
        while index < result.stdout.count, index == start || result.stdout[index].hasPrefix("       ") {
            joined += (joined.isEmpty ? "" : " ") + result.stdout[index].drop { $0 == " " }
            index += 1
        }
        #expect(joined == "[long] " + words)
        let pathStart = try #require(result.stdout.firstIndex { $0.hasPrefix("[long] /ppp") })
        let pathText = result.stdout[pathStart...].prefix(4).map { $0.drop { $0 == " " } }.joined()
        #expect(pathText.hasPrefix("[long]" + path) || pathText.hasPrefix("[long] " + path), "\(pathText)")
    }
}
