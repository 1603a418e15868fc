import Foundation
import Testing
import TestSupport
@testable import LessonKit

/// The lessons in `lessons/`, read without running them: they parse, they keep the rules of
/// the issue (ten lessons in order, exercises at the end, captures for root-only steps).
@Suite struct LessonFilesTests {
    let catalog = Catalog(folder: packageRoot.appendingPathComponent("lessons").path)

    @Test func tenLessonsParseInOrder() throws {
        let lessons = try catalog.lessons()
        // The ten of the issue, numbered without gaps; a teacher's lesson 11 is welcome.
        #expect(lessons.count >= 10)
        #expect(lessons.map(\.number) == Array(1...lessons.count))
        for lesson in lessons {
            #expect(!lesson.title.isEmpty)
            #expect(!lesson.introduction.isEmpty, "lesson \(lesson.number) has no introduction")
            #expect(lesson.steps.allSatisfy { !$0.explanation.isEmpty }, "lesson \(lesson.number): a step without explanation")
        }
    }

    @Test func readmeLinksEveryLesson() throws {
        let readme = try String(contentsOfFile: catalog.folder + "/README.md", encoding: .utf8)
        for file in try catalog.files() {
            let name = String(file.split(separator: "/").last ?? "")
            #expect(readme.contains("](\(name))"), "lessons/README.md does not link \(name)")
        }
    }

    @Test func everyLessonEndsWithExercises() throws {
        for lesson in try catalog.lessons() {
            #expect(lesson.closing.hasPrefix("## Exercises"), "lesson \(lesson.number)")
            #expect(lesson.closing.contains("1. "), "lesson \(lesson.number)")
        }
    }

    @Test func everyStepChecksSomething() throws {
        for lesson in try catalog.lessons() {
            let expectations = lesson.steps.flatMap(\.blocks).filter { if case .expect = $0 { true } else { false } }
            #expect(expectations.count >= lesson.steps.count / 2, "lesson \(lesson.number) promises too little")
        }
    }

    @Test func serversStartOnPortZero() throws {
        for lesson in try catalog.lessons() {
            for command in lesson.steps.flatMap(\.commands) where command.background && command.ready != nil {
                let script = command.script
                if script.contains("echo-server") { #expect(script.contains("--port 0"), "lesson \(lesson.number): \(script)") }
                if script.contains("http-server") { #expect(script.hasSuffix(" 0"), "lesson \(lesson.number): \(script)") }
            }
        }
    }

    @Test func rootStepsReplayExistingCaptures() throws {
        for number in [3, 4, 5, 7] {
            let lesson = try catalog.lesson(String(number))
            let rootCommands = lesson.steps.flatMap(\.commands).filter(\.needsRoot)
            #expect(!rootCommands.isEmpty)
            for command in rootCommands {
                let fallback = try #require(command.fallback, "lesson \(number) [\(command.label)] has no fallback")
                let names = fallback.script.split(whereSeparator: { " \n;$".contains($0) })
                    .filter { $0.hasPrefix("captures/") && $0.hasSuffix(".pcap") }
                for name in names {
                    #expect(FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(String(name)).path), "\(name)")
                }
                if names.isEmpty {
                    // A loop over names: `for capture in a b; do ... captures/$capture.pcap`.
                    #expect(fallback.script.contains("captures/"), "lesson \(number): \(fallback.script)")
                }
            }
        }
    }

    /// Lesson 10 runs on lab-link: root for every command, the link up first, no netem. lab-link
    /// removes its namespaces itself (on SIGTERM, and a killed one's at its next start).
    @Test func lessonTenIsRootOnlyOnLabLink() throws {
        let lesson = try catalog.lesson("10")
        let commands = lesson.steps.flatMap(\.commands)
        #expect(commands.allSatisfy { $0.needsRoot })
        #expect(lesson.steps[0].commands[0].script == "lab-link --delay 50ms")
        #expect(!commands.contains { $0.script.contains("tc qdisc") })
    }

    /// Lesson 11's watcher replays its recording without root, with lab-link's dropped SYN-ACK in it.
    @Test func lessonElevenReplaysItsRecordingWithTheDrop() throws {
        let lesson = try catalog.lesson("11")
        let watch = try #require(lesson.steps.flatMap(\.commands).first { $0.label == "watch" })
        #expect(watch.fallback?.script == "handshake-watch -r captures/lost-syn-ack.pcap")
        let sidecar = try String(contentsOf: packageRoot.appendingPathComponent("captures/lost-syn-ack.events.jsonl"), encoding: .utf8)
        #expect(sidecar.split(separator: "\n").filter { $0.contains("\"type\":\"link-drop\"") }.count == 1)
    }

    @Test func lessonThreeIsTheDemo() throws {
        let lesson = try catalog.lesson("3")
        let scripts = lesson.steps.flatMap(\.commands).map(\.script).joined(separator: "\n")
        #expect(scripts.contains("handshake-watch -i lo"))
        #expect(scripts.contains("echo-client --trace"))
        #expect(scripts.contains("echo-server --port 0 --trace"))
    }
}
