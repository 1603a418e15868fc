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
