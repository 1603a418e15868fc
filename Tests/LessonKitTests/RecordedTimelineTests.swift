import Foundation
import Glibc
import Testing
import TestSupport

/// Without root, a timeline whose watcher replayed a capture shows the recording: the capture's
/// packets and the system calls recorded with it (its `.events.jsonl` sidecar), all from one
/// run; the live client and server of the lesson stay in their own steps, and `expect order`
/// is checked on the recording. Run as `nobody` when nobody can reach the build, otherwise with
/// `--from-captures` (the same path through the runner).
@Suite struct RecordedTimelineTests {
    static let lesson = """
        # Replay

        ## Step 1: A server and a watcher

        ```run background label=server ready="server start, listening"
        echo-server --port 0 --trace
        ```

        ```run background root label=watch ready="listening on lo"
        handshake-watch -i lo port {port:server}
        ```

        ```fallback
        handshake-watch -r DIR/echo.pcap
        ```

        ## Step 2: A client, and one timeline

        ```run label=client
        echo-client --trace --port {port:server} Hello
        ```

        ```timeline labels=watch,client,server
        ```

        ```expect order
        [client] connect(fd {n}, 127.0.0.1:{port}) ...
        [watch] #1 {any}[SYN] seq 0
        [watch] #1 {any}[ACK] seq 1 ack 1 len 0
        [client] ... connect() -> 0
        ```

        ```expect order
        [watch] #1 {any}[ACK] seq 1 ack 1 len 0
        [server] ... accept() -> fd {n} from 127.0.0.1:{port}
        ```

        ## Exercises

        None.
        """

    /// The epoch times of the capture's first packets (SYN, SYN-ACK, ACK), in microseconds.
    static func packetTimes(_ capture: String) throws -> [Int64] {
        let result = try runCommand("handshake-watch", ["-r", capture, "--format", "json", "--no-events"], timeout: 30)
        let fallback = result.status == 0 ? result : try runCommand("handshake-watch", ["-r", capture, "--format", "json"], timeout: 30)
        return fallback.stdout.filter { $0.contains("\"type\":\"packet\"") }.compactMap { line -> Int64? in
            guard let range = line.range(of: #""time":[0-9]+\.[0-9]{6}"#, options: .regularExpression) else { return nil }
            let digits = line[range].dropFirst(7).replacingOccurrences(of: ".", with: "")
            return Int64(digits)
        }
    }

    /// Microseconds as the sidecar writes epoch seconds: `1795642942.605030`.
    static func seconds(_ micros: Int64) -> String {
        String(format: "%lld.%06lld", micros / 1_000_000, micros % 1_000_000)
    }

    /// A lesson folder with the capture and a sidecar in which connect() returns `returnAfter`
    /// microseconds after the SYN; readable by nobody.
    func prepare(returnAfter: Int64) throws -> TemporaryLesson {
        let lesson = try TemporaryLesson(Self.lesson)
        let capture = lesson.folder + "/echo.pcap"
        try FileManager.default.copyItem(atPath: packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path, toPath: capture)
        let times = try Self.packetTimes(capture)
        try #require(times.count >= 3)
        let (syn, ack) = (times[0], times[2])
        let events = [
            #"{"type":"syscall","time":\#(Self.seconds(syn - 5_000)),"duration":0.005100,"label":"server","pid":41,"call":"accept","text":"accept(fd 3) -> fd 4 from 127.0.0.1:39102"}"#,
            #"{"type":"syscall","time":\#(Self.seconds(syn - 20)),"duration":\#(String(format: "%.6f", Double(returnAfter + 20) / 1e6)),"label":"client","pid":42,"call":"connect","text":"connect(fd 3, 127.0.0.1:35047) -> 0"}"#,
            #"{"type":"kernel-thing","time":\#(Self.seconds(ack)),"note":"a type this runner does not know"}"#,
        ]
        try (events.joined(separator: "\n") + "\n").write(toFile: lesson.folder + "/echo.events.jsonl", atomically: true, encoding: .utf8)
        for path in [lesson.folder, capture, lesson.file, lesson.folder + "/echo.events.jsonl"] {
            chmod(path, path == lesson.folder ? 0o755 : 0o644)
        }
        return lesson
    }

    /// As nobody when nobody can run the built `lesson`, else `--from-captures`.
    func check(_ lesson: TemporaryLesson) throws -> (status: Int32, stdout: [String], stderr: [String]) {
        var prefix: [String] = []
        var arguments = ["check", lesson.file, "--verbose"]
        if Privileges.isRoot {
            let reachable = try? runCommand("/usr/bin/env", ["test", "-x", ToolProcess.path(of: "lesson"), "-a", "-r", lesson.file],
                                            prefix: Privileges.asNobody)
            if reachable?.status == 0 { prefix = Privileges.asNobody } else { arguments.append("--from-captures") }
        }
        return try runCommand("lesson", arguments, prefix: prefix, timeout: 90)
    }

    @Test func theTimelineShowsTheRecordingAndItsOrderIsChecked() throws {
        let lesson = try prepare(returnAfter: 40)   // ACK 24 µs after the SYN on this capture
        defer { lesson.remove() }
        let result = try check(lesson)
        let all = result.stdout.joined(separator: "\n") + "\n" + result.stderr.joined(separator: "\n")
        #expect(result.status == 0, "\(all)")
        let note = try #require(result.stdout.firstIndex { $0.contains("one timeline, from a recording: [watch] replayed \(lesson.folder)/echo.pcap") }, "\(all)")
        #expect(result.stdout[note].contains("echo.events.jsonl"))
        #expect(result.stdout.contains { $0.contains("[client], [server] ran live in this lesson") })
        let timeline = Array(result.stdout[(note + 1)...].prefix { !$0.hasPrefix("--") }.filter { $0.hasPrefix("  [") })
        let connect = try #require(timeline.firstIndex { $0.contains("[client]") && $0.contains("connect(fd 3, 127.0.0.1:35047) ...") }, "\(timeline)")
        let syn = try #require(timeline.firstIndex { $0.contains("[watch]") && $0.contains("[SYN] seq 0") })
        let ack = try #require(timeline.firstIndex { $0.contains("[watch]") && $0.contains("[ACK] seq 1 ack 1 len 0") })
        let back = try #require(timeline.firstIndex { $0.contains("[client]") && $0.contains("... connect() -> 0") })
        #expect(connect < syn && syn < ack && ack < back, "\(timeline)")
        // Only the recording: the live client's calls (socket(), send(), ...) are not on it.
        #expect(timeline.filter { $0.contains("[client]") }.count == 2, "\(timeline)")
        #expect(!timeline.contains { $0.contains("kernel-thing") })
    }

    /// The check of issue 8's section 4: without root, `lesson run 3 --auto` shows a step 4 in
    /// which the recorded connect() spans the recorded SYN and ACK.
    @Test func lessonThreeStepFourShowsTheRecordedConnectAroundTheHandshake() throws {
        let capture = packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path
        try #require(FileManager.default.fileExists(atPath: capture.replacingOccurrences(of: ".pcap", with: ".events.jsonl")))
        var prefix: [String] = []
        var arguments = ["run", "3", "--auto", "--width", "1000"]   // whole lines: the order is read line by line
        if Privileges.isRoot {
            let reachable = try? runCommand("/usr/bin/env", ["test", "-x", ToolProcess.path(of: "lesson"), "-a", "-r", capture],
                                            prefix: Privileges.asNobody)
            if reachable?.status == 0 { prefix = Privileges.asNobody } else { arguments.append("--from-captures") }
        }
        let result = try runCommand("lesson", arguments, prefix: prefix, timeout: 120)
        #expect(result.status == 0, "\(result.stdout.joined(separator: "\n"))\n\(result.stderr.joined(separator: "\n"))")
        let start = try #require(result.stdout.firstIndex { $0.hasPrefix("-- Step 4/6") })
        let step = Array(result.stdout[start...].dropFirst().prefix { !$0.hasPrefix("-- Step 5/6") })
        #expect(step.contains { $0.contains("one timeline, from a recording: [watch] replayed captures/echo-ipv4.pcap") })
        let connect = try #require(step.firstIndex { $0.hasPrefix("  [client]") && $0.contains("connect(fd ") && $0.hasSuffix(") ...") }, "\(step)")
        let syn = try #require(step.firstIndex { $0.hasPrefix("  [watch]") && $0.contains("[SYN] seq 0") })
        let ack = try #require(step.firstIndex { $0.hasPrefix("  [watch]") && $0.contains("[ACK] seq 1 ack 1 len 0") })
        let back = try #require(step.firstIndex { $0.hasPrefix("  [client]") && $0.contains("... connect() -> 0") })
        #expect(connect < syn && syn < ack && ack < back, "\(step)")
    }

    /// Lesson 10 without root: every command is skipped, so its cleanup (which deletes the
    /// namespaces) must not run either, or it would break a live run of it going on meanwhile.
    @Test func aLessonThatRunsNothingDoesNotCleanUp() throws {
        let lesson = try TemporaryLesson("""
            # Root only

            ```cleanup
            touch DIR/cleaned
            ```

            ## Step 1: Needs root

            ```run root label=setup
            touch DIR/ran
            ```

            ## Exercises

            None.
            """)
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file] + (Privileges.isRoot ? ["--from-captures"] : []), timeout: 60)
        // Nothing ran, so nothing was checked: reported as skipped, and not a success.
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains { $0.contains("skipped (needs root)") }, "\(result.stdout)")
        #expect(!lesson.exists("ran"))
        #expect(!lesson.exists("cleaned"))
    }

    @Test func aRecordingThatContradictsTheClaimFails() throws {
        let lesson = try prepare(returnAfter: 5)   // connect() "returns" before the SYN-ACK
        defer { lesson.remove() }
        let result = try check(lesson)
        let error = result.stderr.joined(separator: "\n")
        #expect(result.status == 1)
        #expect(error.contains("timeline: expected [watch] #1 {any}[ACK] seq 1 ack 1 len 0 before [client] ... connect() -> 0, but it came after it"), "\(error)")
    }
}
