import Foundation
import Glibc
import Testing
import TestSupport
@testable import LessonKit

/// A typo is an error, not prose: fence words and attributes.
@Suite struct FenceWordTests {
    func parse(_ fence: String, body: String = "hi") throws -> Lesson {
        try LessonParser().parse("""
            # T

            ## Step 1: a

            ```run
            echo hi
            ```

            \(fence)
            \(body)
            ```
            """, path: "lesson.md")
    }

    @Test(arguments: ["```expcet", "```rnu", "```timline", "```cleanpu", "```fallbak", "```stpo", "```Expect"])
    func misspeltKindsAreErrors(fence: String) {
        #expect(throws: LessonError.self) { _ = try parse(fence) }
        do { _ = try parse(fence) } catch {
            #expect("\(error)".hasPrefix("lesson.md:9: "), "\(error)")
        }
    }

    @Test(arguments: ["```rust", "```ruby", "```swift", "```text", "```console", "```sh", "```json", "```", "```c"])
    func languagesStayProse(fence: String) throws {
        let lesson = try parse(fence)
        #expect(lesson.steps[0].blocks.count == 2, "the run block and the code shown as prose")
    }

    @Test func unknownAttributesAreErrors() {
        #expect(throws: LessonError.format(path: "lesson.md", line: 9,
                                           message: "```expect has no attribute `colour` (it takes absent, fallback, label, live, order, stream, timeout)")) {
            _ = try parse("```expect colour=blue")
        }
        #expect(throws: LessonError.self) { _ = try parse("```expect lable=x") }
        #expect(throws: LessonError.self) { _ = try parse("```run backgroud", body: "sleep 1") }
    }

    @Test func knownAttributesAndOrderPass() throws {
        _ = try parse("```expect label=echo stream=stdout timeout=3")
        // An order expectation checks the timeline before it, so it takes one.
        let lesson = try LessonParser().parse("""
            # T

            ## Step 1: a

            ```run label=echo
            echo hi; echo bye
            ```

            ```timeline labels=echo
            ```

            ```expect order live timeout=3
            [echo] hi
            [echo] bye
            ```
            """, path: "lesson.md")
        #expect(lesson.steps[0].blocks.count == 3)
    }

    @Test func editDistance() {
        #expect(FenceWords.editDistance(Array("expcet"), Array("expect"), limit: 2) == 1)
        #expect(FenceWords.editDistance(Array("rnu"), Array("run"), limit: 2) == 1)   // a swap is one edit
        #expect(FenceWords.looksLike("timline", "timeline"))
        #expect(FenceWords.looksLike("tmeline", "timeline"))
        #expect(!FenceWords.looksLike("stp", "expect"))
        #expect(!FenceWords.looksLike("rust", "run"))
        #expect(FenceWords.looksLike("rn", "run"))
    }
}

/// Bad paths, bad flags, root, cleanup: the runner refuses loudly and leaves nothing behind.
@Suite struct StrictRunnerTests {
    @Test func aMissingLessonsFolderIsOneLine() throws {
        let result = try runCommand("lesson", ["check", "--lessons", "3"], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr == ["lesson: no lessons folder '3'"])
    }

    @Test func aFolderWithoutLessonsIsAnError() throws {
        let empty = try TemporaryLesson("# not a lesson")
        defer { empty.remove() }
        try FileManager.default.removeItem(atPath: empty.file)
        let result = try runCommand("lesson", ["check", "--lessons", empty.folder], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.count == 1 && result.stderr[0].hasPrefix("lesson: no lessons in '"), "\(result.stderr)")
    }

    @Test(arguments: ["/dev/zero", "/tmp", "/proc/self/fd/0"])
    func nonRegularFilesAreRefused(path: String) throws {
        let result = try runCommand("lesson", ["check", "--", path], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.count == 1, "\(result.stderr)")
    }

    @Test func aFileOverOneMebibyteIsRefused() throws {
        let lesson = try TemporaryLesson("# Big\n\n## Step 1: a\n\n" + String(repeating: "word ", count: 220_000))
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.first?.contains("larger than 1024 KiB") == true, "\(result.stderr)")
    }

    @Test(arguments: ["nan", "-1", "61", "inf"])
    func paceIsValidated(pace: String) throws {
        let result = try runCommand("lesson", ["run", "1", "--auto", "--pace=\(pace)"], timeout: 120)
        #expect(result.status == 64)
        #expect(result.stderr.first == "Error: --pace must be a number of seconds from 0 to 60", "\(result.stderr)")
    }

    /// As nobody, from a world-readable copy of lessons/ (and of the binary when nobody cannot
    /// reach the build: a checkout under /root, or in a mode 0700 temporary folder). What is
    /// tested is the root check, not where the checkout happens to live.
    @Test(.enabled(if: Privileges.isRoot))
    func aRootOnlyLessonRefusesUpFrontWithoutRoot() throws {
        let copy = try TemporaryLesson("")   // a fresh mode 0700 folder, opened up below
        defer { copy.remove() }
        let lessons = copy.folder + "/lessons"
        try FileManager.default.copyItem(atPath: packageRoot.appendingPathComponent("lessons").path, toPath: lessons)
        for name in try FileManager.default.contentsOfDirectory(atPath: lessons) {
            chmod(lessons + "/" + name, 0o644)
        }
        chmod(lessons, 0o755)
        chmod(copy.folder, 0o755)
        let binary = try Privileges.toolForNobody("lesson")
        defer { binary.remove() }
        let result = try runCommand(binary.path, ["run", "10", "--lessons", lessons], prefix: Privileges.asNobody,
                                    currentDirectory: copy.folder, timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr == ["lesson: lesson 10 needs root for steps 1, 2, 3, 5 (no recorded capture to replay): run it with sudo"])
        #expect(result.stdout.isEmpty, "nothing shown, nothing started")
    }

    @Test func aCommandThatLeavesItsProcessGroupIsStoppedToo() throws {
        let marker = "4243.\(UInt32.random(in: 1...999_999))"
        let lesson = try TemporaryLesson("""
            # Escape

            ## Step 1: Leave the group

            ```run background label=escaper ready="started"
            setsid sleep \(marker) &
            ( setsid sh -c 'exec sleep \(marker)' & ) &
            until [ "$(pgrep -f '^sleep \(marker)' | wc -l)" -ge 2 ]; do sleep 0.05; done
            echo started
            exec sleep 300
            ```

            ```run label=finder
            pgrep -f "^sleep \(marker)" | wc -l
            ```

            ```expect
            2
            ```
            """)
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let left = try runCommand("/usr/bin/pgrep", ["-f", "^sleep \(marker)"], timeout: 120)
        #expect(left.stdout.isEmpty, "still running: \(left.stdout)")
    }

    @Test func paceWithoutAutoWaitsThenPrompts() throws {
        let lesson = try TemporaryLesson("""
            # Pace

            ## Step 1: one

            ```run
            echo "step 1 ran"
            ```

            ## Step 2: two

            ```run
            echo "step 2 ran"
            ```
            """)
        defer { lesson.remove() }
        let runner = try ToolProcess("lesson", ["run", lesson.file, "--pace", "0.1"])
        _ = try runner.waitForLine(containing: "[Enter: run step 1, q: quit]")
        runner.write("\n")
        _ = try runner.waitForLine(containing: "[Enter: run step 2, q: quit]")
        runner.write("\n")
        #expect(try runner.waitForExit() == 0)
        #expect(runner.stdout.contains("[echo] step 2 ran"))
    }

    @Test func stepNPromptsBeforeStepN() throws {
        let lesson = try TemporaryLesson("""
            # Steps

            ## Step 1: one

            ```run
            echo "step 1 ran"
            ```

            ## Step 2: two

            ```run
            echo "step 2 ran"
            ```
            """)
        defer { lesson.remove() }
        let runner = try ToolProcess("lesson", ["run", lesson.file, "--step", "2"])
        _ = try runner.waitForLine(containing: "[Enter: run step 2, q: quit]")
        #expect(!runner.stdout.contains("[Enter: run step 1, q: quit]"))
        #expect(!runner.stdout.contains("[echo] step 2 ran"), "step 2 waits for Enter")
        runner.write("\n")
        #expect(try runner.waitForExit() == 0)
        #expect(runner.stdout.contains("[echo] step 2 ran"))
    }

    @Test func autoWithStepNPromptsOnceBeforeStepN() throws {
        let lesson = try TemporaryLesson("""
            # Steps

            ## Step 1: one

            ```run
            echo "step 1 ran"
            ```

            ## Step 2: two

            ```run
            echo "step 2 ran"
            ```

            ## Step 3: three

            ```run
            echo "step 3 ran"
            ```
            """)
        defer { lesson.remove() }
        let runner = try ToolProcess("lesson", ["run", lesson.file, "--auto", "--step", "2"])
        _ = try runner.waitForLine(containing: "[Enter: run step 2, q: quit]")
        #expect(!runner.stdout.contains("[echo] step 2 ran"), "step 2 waits for Enter")
        runner.write("\n")
        #expect(try runner.waitForExit() == 0)
        #expect(runner.stdout.contains("[echo] step 3 ran"))
        #expect(runner.stdout.filter { $0.hasPrefix("[Enter:") }.count == 1, "\(runner.stdout)")
    }

    @Test func widthWrapsProse() throws {
        let words = (1...40).map { "word\($0)" }.joined(separator: " ")
        let lesson = try TemporaryLesson("# Wrap\n\n\(words)\n\n## Step 1: a\n\n```run\necho hi\n```\n")
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["run", lesson.file, "--auto", "--width", "40"], timeout: 120)
        #expect(result.status == 0)
        let prose = result.stdout.filter { $0.hasPrefix("word") }
        #expect(prose.count > 1 && prose.allSatisfy { $0.count <= 40 }, "\(prose)")
        #expect(prose.joined(separator: " ") == words)
        let narrow = try runCommand("lesson", ["run", lesson.file, "--auto"], environment: ["COLUMNS": "30"], timeout: 120)
        #expect(narrow.stdout.filter { $0.hasPrefix("word") }.allSatisfy { $0.count <= 30 })
    }
}
