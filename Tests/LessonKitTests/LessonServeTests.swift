import Foundation
import Glibc
import Testing
import TestSupport

/// `lesson run N --serve 0`: the lesson's merged timeline served to browsers, read here as the
/// page reads it (/events.jsonl, then the stream). Replays captures (--from-captures): no live
/// capture, so it runs with the other suites.
@Suite("lesson run --serve", .serialized)
struct LessonServeTests {
    @Test("lesson 3 served: a step event per step, the server's traced calls, its output, the packets; event: end on SIGTERM")
    func lessonThree() throws {
        let lesson = try ToolProcess("lesson", ["run", "3", "--auto", "--from-captures", "--serve", "0"],
                                     currentDirectory: packageRoot.path)
        defer { lesson.stop() }
        let port = try lesson.waitForPort(containing: "serving the live view on http://127.0.0.1:", onStderr: true, timeout: 60)
        _ = try lesson.waitForLine(containing: "still serving the live view", onStderr: true, timeout: 300)
        let fetched = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/events.jsonl"])
        #expect(fetched.status == 0)
        let events = fetched.stdout.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == fetched.stdout.count, "every line is one JSON object")
        let steps = events.filter { $0["type"] as? String == "step" }
        #expect(steps.compactMap { $0["number"] as? Int } == Array(1...6))
        #expect(steps.allSatisfy { $0["lesson"] as? Int == 3 && $0["title"] is String && $0["text"] is String && $0["time"] is Double })
        let types = Set(events.compactMap { $0["type"] as? String })
        #expect(types.isSuperset(of: ["step", "syscall", "output", "packet"]), "\(types)")
        #expect(events.contains { $0["type"] as? String == "syscall" && $0["call"] as? String == "accept" && $0["label"] as? String == "server" })
        let stream = try ToolProcess("/usr/bin/curl", ["-sN", "http://127.0.0.1:\(port)/events?after=\(events.count)"])
        defer { stream.stop() }
        _ = try stream.waitForLine(containing: "retry: 500", timeout: 30)
        lesson.signal(SIGTERM)
        _ = try lesson.waitForExit(timeout: 30)
        _ = try stream.waitForLine(containing: "event: end", timeout: 30)
    }
}
