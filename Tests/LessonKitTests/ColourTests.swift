import Foundation
import Testing
import TestSupport
@testable import LessonKit

/// On a terminal the runner has handshake-watch colour its lines (`--color always`), and matches
/// expectations on the text without the escape codes; NO_COLOR turns it off.
@Suite struct ColourTests {
    static let lesson = """
        # Colours

        A test.

        ## Step 1: coloured on a terminal

        ```run label=watch
        handshake-watch -r captures/echo-ipv4.pcap --brief --no-events
        ```

        ```expect
        [SYN] seq 0 len 0 win {n}  open 1/3
        ```

        ```run label=probe
        handshake-watch -r captures/echo-ipv4.pcap --brief --no-events > DIR/out
        if grep -q $'\\e\\\\[32m\\\\[SYN\\\\]' DIR/out; then echo coloured; else echo plain; fi
        ```

        ```expect
        coloured
        ```

        ## Exercises

        1. None.
        """

    /// `lesson check FILE` with a terminal (script(1)'s pseudo-terminal) as its stdout.
    func checkOnATerminal(_ file: String, noColor: Bool) throws -> (status: Int32, stdout: [String], stderr: [String]) {
        // env(1): ToolProcess adds to the test's environment, and NO_COLOR must be really unset.
        let command = "\(ToolProcess.path(of: "lesson")) check \(file)"
        let setting = noColor ? ["NO_COLOR=1"] : ["-u", "NO_COLOR"]
        return try runCommand("/usr/bin/env", setting + ["/usr/bin/script", "-qec", command, "/dev/null"], timeout: 90)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func colouredOnATerminalAndMatchedWithoutTheCodes() throws {
        let lesson = try TemporaryLesson(Self.lesson)
        let coloured = try checkOnATerminal(lesson.file, noColor: false)
        #expect(coloured.status == 0, "coloured, and the expectation matched: \(coloured.stdout)")
        let plain = try checkOnATerminal(lesson.file, noColor: true)
        #expect(plain.status == 1, "NO_COLOR: plain, so the probe fails: \(plain.stdout)")
    }

    @Test func escapesAreTakenOut() {
        #expect(Terminal.withoutEscapes("\u{1B}[32m[SYN]\u{1B}[0m seq 0\u{1B}[2K") == "[SYN] seq 0")
        #expect(Terminal.colouringHandshakeWatch("handshake-watch -r x; sudo handshake-watch --brief\n/opt/handshake-watch-old y")
                == "handshake-watch --color always -r x; sudo handshake-watch --color always --brief\n/opt/handshake-watch-old y")
    }
}
