import Foundation
import Glibc
import Testing
import TestSupport

/// `lesson check` over every lesson: a lesson whose text promises output the tools no longer
/// print fails here. As root (CI) every step runs live, capturing on `lo` and building lesson
/// 10's namespaces, so this suite runs after the others, alone, one test at a time.
@Suite("LiveLessonCheck", .live, .serialized)
struct LiveLessonCheckTests {
    /// Every lesson file's number (`lessons/NN-name.md`).
    static let lessonNumbers: [Int] = ((try? FileManager.default.contentsOfDirectory(
        atPath: packageRoot.appendingPathComponent("lessons").path)) ?? [])
        .filter { $0.hasSuffix(".md") }
        .compactMap { Int($0.prefix(while: \.isNumber)) }
        .sorted()

    @Test(arguments: lessonNumbers)
    func lessonChecks(number: Int) throws {
        let result = try runCommand("lesson", ["check", String(number)], timeout: 180)
        #expect(result.status == 0, """
            lesson \(number) no longer matches the tools:
            \(result.stdout.joined(separator: "\n"))
            \(result.stderr.joined(separator: "\n"))
            """)
        #expect(result.stdout.first?.hasPrefix("lesson \(number) (") == true)
        if Privileges.isRoot {
            // As root nothing falls back to a capture and nothing is skipped.
            #expect(!result.stdout.contains { $0.contains("replayed from a capture") || $0.contains("skipped") })
        }
    }

    /// Issue 19's projector rule: with `--width 80` no line the runner prints is wider than 80
    /// columns (prose, commands' output, watchers, checks), and wrapping loses nothing: each
    /// step's output is still there. Live as root, replayed from captures without root.
    @Test(arguments: lessonNumbers)
    func everyLineFitsEightyColumns(number: Int) throws {
        let result = try runCommand("lesson", ["run", String(number), "--auto", "--width", "80"], timeout: 240)
        #expect(result.status == 0, "\(result.stdout.suffix(20).joined(separator: "\n"))\n\(result.stderr.joined(separator: "\n"))")
        let wide = result.stdout.filter { Self.columns($0) > 80 }
        #expect(wide.isEmpty, "lesson \(number): \(wide.count) lines over 80 columns, first: \(wide.prefix(3))")
        #expect(result.stdout.contains { $0.hasPrefix("-- Step 1/") })
    }

    /// Columns a line takes on a terminal: its characters, without colour escapes (ESC [ ... m).
    static func columns(_ line: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in line.unicodeScalars {
            if inEscape { if scalar == "m" { inEscape = false }; continue }
            if scalar == "\u{1B}" { inEscape = true; continue }
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            count += 1
        }
        return count
    }

    /// Without root, the watcher steps replay captures and say so: tested for real by dropping
    /// to nobody when nobody can reach the build (a checkout under /root cannot be), else with
    /// `--from-captures`; without root the test runs as it is.
    @Test func withoutRootTheWatcherStepsReplayCaptures() throws {
        var prefix: [String] = []
        var arguments = ["check", "3", "5"]
        if Privileges.isRoot {
            let reachable = try? runCommand("/usr/bin/env", [
                "test", "-x", ToolProcess.path(of: "lesson"), "-a", "-r",
                packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path,
            ], prefix: Privileges.asNobody)
            if reachable?.status == 0 { prefix = Privileges.asNobody } else { arguments.append("--from-captures") }
        }
        let result = try runCommand("lesson", arguments, prefix: prefix, timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("  replayed from a capture (needs root): step 2 [watch]: handshake-watch -r captures/echo-ipv4.pcap"))
        #expect(result.stdout.contains { $0.hasPrefix("  replayed from a capture (needs root): step 1 [watch]") })
    }

    /// Ctrl-C in the middle of lesson 10 (at the prompt before step 4, with the server and the
    /// watcher running in the namespace): both stop and the namespaces go.
    @Test(.enabled(if: Privileges.isRoot))
    func ctrlCInLessonTenRemovesTheNamespaces() throws {
        let runner = try ToolProcess("lesson", ["run", "10"])
        for step in 1...3 {
            _ = try runner.waitForLine(containing: "[Enter: run step \(step), q: quit]", timeout: 120)
            runner.write("\n")
        }
        _ = try runner.waitForLine(containing: "[Enter: run step 4, q: quit]", timeout: 120)
        #expect(runner.stdout.contains { $0.hasPrefix("[server] server start, listening 10.77.0.2:") })
        #expect(runner.stdout.contains { $0.hasPrefix("[watch] listening on st-s") })
        #expect(namespaces().contains("st-server"))
        let inside = pidsInServerNamespace()
        #expect(inside.count >= 2, "echo-server and handshake-watch should run in st-server")
        runner.signal(SIGINT)
        #expect(try runner.waitForExit(timeout: 120) == 130)
        for pid in inside { #expect(Processes.waitUntilGone(pid), "process \(pid) still running") }
        #expect(!namespaces().contains("st-client") && !namespaces().contains("st-server"), "\(namespaces())")
    }

    /// Lesson 10 with a step that fails after the namespaces exist and the server runs: the
    /// runner reports the step, stops the server and removes the namespaces.
    @Test(.enabled(if: Privileges.isRoot))
    func aFailingStepInLessonTenRemovesTheNamespaces() throws {
        let original = try String(contentsOf: packageRoot.appendingPathComponent("lessons/10-across-a-network.md"), encoding: .utf8)
        let marker = "## Step 3:"
        let broken = original.replacingOccurrences(of: marker, with: """
            ```run root label=pids
            ip netns pids st-server > DIR/pids
            ```

            ```expect
            a line no command prints
            ```

            \(marker)
            """)
        #expect(broken != original)
        let lesson = try TemporaryLesson(broken)
        defer { lesson.remove() }
        let result = try runCommand("lesson", ["check", lesson.file], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.joined(separator: "\n").contains("step 2 \"A server on one host, the watcher on its interface\": [pids]"))
        let pids = (lesson.text("pids") ?? "").split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count >= 2, "echo-server and handshake-watch should have run in st-server")
        for pid in pids { #expect(Processes.waitUntilGone(pid), "process \(pid) still running") }
        #expect(!namespaces().contains("st-client") && !namespaces().contains("st-server"), "\(namespaces())")
    }

    /// A stale set from a crash (lab-link killed with SIGKILL, its namespaces left behind) is
    /// removed when lesson 10's lab-link starts; a namespace of that name that is not lab-link's
    /// is never touched (lab-link's own tests check that).
    @Test(.enabled(if: Privileges.isRoot))
    func lessonTenCleansAStaleSetFirst() throws {
        let killed = try ToolProcess("lab-link", [])
        _ = try killed.waitForLine(containing: "link up: st-client")
        killed.signal(SIGKILL)
        _ = try? killed.waitForExit(timeout: 30)
        #expect(namespaces().contains("st-client"))
        let result = try runCommand("lesson", ["check", "10"], timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(!namespaces().contains("st-"))
    }

    private func namespaces() -> String {
        (try? runCommand("/usr/bin/env", ["ip", "netns", "list"]).stdout.joined(separator: "\n")) ?? ""
    }

    /// Processes that run inside the st-server namespace.
    private func pidsInServerNamespace() -> [Int32] {
        let out = (try? runCommand("/usr/bin/env", ["ip", "netns", "pids", "st-server"]).stdout) ?? []
        return out.compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }
}
