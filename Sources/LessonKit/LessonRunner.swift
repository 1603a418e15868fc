@preconcurrency import Glibc
import Foundation
import SocketCore

/// Runs a lesson: shows each step, starts its commands, checks what they print, and always
/// stops what it started.
public final class LessonRunner {
    /// How the lesson is being run.
    public enum Mode: Sendable {
        /// `lesson run N`: waits for Enter before each step.
        case interactive
        /// `lesson run N --auto`: the same, without pauses.
        case auto
        /// `lesson check`: unattended; output hidden unless verbose; a failing check is an error.
        case check
    }

    public struct Options: Sendable {
        public var mode: Mode
        /// Steps before this one run quietly, so the servers they start are there (`--step N`).
        public var firstStep: Int = 1
        /// Seconds to wait after each step (`--pace`), so a class can follow; interactively the
        /// Enter prompt comes after the wait.
        public var pace = 0.0
        /// Root-only commands run from their recorded captures even as root (`--from-captures`).
        public var fromCaptures = false
        /// Folder put first on PATH: where the built tools are.
        public var binDirectory: String

        public init(mode: Mode, binDirectory: String) {
            self.mode = mode
            self.binDirectory = binDirectory
        }
    }

    /// What happened, for `lesson check`'s summary line.
    public struct Report: Sendable {
        public var steps = 0
        /// `step 3 [watch]: ran captures/...` for every root-only command replayed from a capture.
        public var fallbacks: [String] = []
        /// Root-only commands without a fallback that were skipped.
        public var skipped: [String] = []
        public var seconds = 0.0
    }

    private let lesson: Lesson
    private let options: Options
    private let presenter: Presenter
    private let isRoot: Bool
    private var processes: [String: ChildProcess] = [:]
    private var values: [String: String] = [:]
    private var replayed: Set<String> = []
    private var skipped: Set<String> = []
    private var timeline: [String] = []
    private var temporaryFolder = ""
    private var report = Report()
    private var quiet = false

    public init(lesson: Lesson, options: Options, presenter: Presenter, isRoot: Bool = geteuid() == 0) {
        self.lesson = lesson
        self.options = options
        self.presenter = presenter
        self.isRoot = isRoot
    }

    /// Runs the lesson to its end; throws `LessonError.stepFailed` naming the step and the
    /// difference. Whatever happens, everything started is stopped before it returns.
    @discardableResult
    public func run() throws -> Report {
        let start = Date()
        let supervisor = Supervisor.shared
        defer { supervisor.finishLesson() }
        do { try supervisor.becomeSubreaper() } catch {
            throw LessonError.stepFailed("cannot make sure everything the lesson starts is stopped: \(error)")
        }

        var template = "/tmp/sockettutor-lesson-XXXXXX".utf8CString
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw LessonError.stepFailed("cannot create a temporary folder in /tmp") }
        temporaryFolder = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        supervisor.addTemporaryFolder(temporaryFolder)
        supervisor.setCleanup(lesson.cleanup.map(substituteFixed), environment: environment)
        // A set left behind by a crash (lesson 10's namespaces) goes before anything starts.
        if !lesson.cleanup.isEmpty { supervisor.runCleanup() }

        presenter.heading("Lesson \(lesson.number): \(lesson.title)")
        presenter.prose(lesson.introduction)
        if lesson.needsRoot && !runsLive {
            let rootCommands = lesson.steps.flatMap(\.commands).filter(\.needsRoot)
            let why = isRoot ? "--from-captures" : "not running as root"
            if rootCommands.allSatisfy({ $0.fallback == nil }) {
                presenter.warning("\(why): this lesson needs root for its commands, which are skipped")
            } else {
                presenter.warning("\(why): commands that need root replay recorded captures from captures/ instead"
                                  + (rootCommands.contains { $0.fallback == nil } ? " (or are skipped)" : ""))
            }
        }
        for step in lesson.steps {
            if supervisor.isClosing { throw LessonError.interrupted }
            quiet = step.number < options.firstStep
            try run(step)
            report.steps += 1
            if options.mode != .check && options.pace > 0 && !quiet && step.number < lesson.steps.count {
                usleep(UInt32(min(max(options.pace, 0), 60) * 1_000_000))
            }
        }
        // Servers and watchers go before the exercises are shown, so their last lines come first.
        show.note("stopping everything the lesson started")
        supervisor.stopChildren()
        if !quiet {
            presenter.stepHeading("End of lesson \(lesson.number)")
            presenter.prose(lesson.closing)
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// Why this lesson cannot be run as asked: commands that need root, have no recorded capture
    /// to replay, and would be skipped (lesson 10 without root). Nil when it can run.
    public var rootRefusal: String? {
        guard !runsLive else { return nil }
        let skipped = lesson.steps.flatMap(\.commands).filter { $0.needsRoot && $0.fallback == nil }
        guard !skipped.isEmpty else { return nil }
        let steps = lesson.steps.filter { $0.commands.contains { $0.needsRoot && $0.fallback == nil } }.map { "\($0.number)" }
        return "lesson \(lesson.number) needs root for step" + (steps.count == 1 ? " " : "s ") + steps.joined(separator: ", ")
            + " (no recorded capture to replay)" + (isRoot ? ": run it without --from-captures" : ": run it with sudo")
    }

    /// Live unless root-only commands must be replayed.
    private var runsLive: Bool { isRoot && !options.fromCaptures }

    private var show: Presenter {
        var presenter = self.presenter
        if quiet { presenter.isShowing = false }
        return presenter
    }

    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = options.binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["NO_COLOR"] = "1"
        return environment
    }

    // MARK: - Steps

    private func run(_ step: Step) throws {
        show.stepHeading("Step \(step.number)/\(lesson.steps.count): \(step.title)")
        show.prose(step.explanation)
        // Interactively before every step; with --auto once, before the --step the class starts
        // at, when the earlier steps have quietly set the scene.
        let prompts = options.mode == .interactive || (options.mode == .auto && step.number == options.firstStep
                                                       && options.firstStep > 1)
        if prompts && !quiet {
            Console.line("[Enter: run step \(step.number), q: quit]")
            if let answer = readLine(), answer.lowercased().hasPrefix("q") {
                throw LessonError.interrupted
            }
        }
        for block in step.blocks {
            if Supervisor.shared.isClosing { throw LessonError.interrupted }
            switch block {
            case .run(let command): try run(command, in: step)
            case .expect(let expectation): try check(expectation, in: step)
            case .timeline(let labels): mergeTimeline(labels)
            case .prose(let text): show.prose("\n" + text)
            case .stop(let label, let signal):
                show.note("stopping [\(label)]")
                processes[label]?.stop(signal: signal, grace: 5)
            }
        }
    }

    private func run(_ command: Command, in step: Step) throws {
        var script = command.script
        var expectedStatus = command.expectedStatus
        var timeout = command.timeout
        var background = command.background
        if command.needsRoot && !runsLive {
            guard let fallback = command.fallback else {
                show.note("step \(step.number) needs root for [\(command.label)]: skipped")
                skipped.insert(command.label)
                report.skipped.append("step \(step.number) [\(command.label)]")
                return
            }
            show.note("[\(command.label)] needs root" + (isRoot ? "" : " (this is not root)")
                      + ": replaying a recorded capture instead")
            script = fallback.script
            expectedStatus = fallback.expectedStatus
            timeout = fallback.timeout
            background = false
            replayed.insert(command.label)
            let lines = fallback.script.split(separator: "\n")
            report.fallbacks.append("step \(step.number) [\(command.label)]: \(lines.first ?? "")" + (lines.count > 1 ? " ..." : ""))
        } else {
            replayed.remove(command.label)
            if command.needsRoot { show.note("[\(command.label)] needs root: running live") }
        }
        skipped.remove(command.label)
        script = try substitute(script, step: step)
        show.command(script, label: command.label, background: background)

        let presenter = show
        let label = command.label
        let child = try ChildProcess(label: label, script: script, strict: true, environment: environment) { line in
            presenter.output(line.text, label: label, stream: line.stream)
        }
        try Supervisor.shared.adopt(child)
        processes[label] = child
        values["pid:\(label)"] = String(child.pid)

        if background {
            guard let ready = command.ready else { return }
            let found = child.wait(timeout: timeout) { lines in lines.contains { $0.contains(ready) } }
            guard found, let line = child.lines().first(where: { $0.contains(ready) }) else {
                let why = child.exitStatus.map { "exited with status \($0)" } ?? "printed nothing like it within \(Int(timeout)) s"
                throw failure(step, "[\(label)] was to print \"\(ready)\" when ready, but \(why)", output: child.lines())
            }
            if let port = Self.port(in: line) { values["port:\(label)"] = String(port) }
            return
        }

        guard let status = child.waitForExit(timeout: timeout) else {
            child.stop(grace: 2)
            throw failure(step, "[\(label)] did not finish within \(Int(timeout)) s", output: child.lines())
        }
        if let expectedStatus, status != expectedStatus {
            throw failure(step, "[\(label)] exited with status \(status), expected \(expectedStatus)", output: child.lines())
        }
    }

    // MARK: - Checking output

    private func check(_ expectation: Expectation, in step: Step) throws {
        let label = expectation.label
        if skipped.contains(label) { return }
        if expectation.only == .live && replayed.contains(label) { return }
        if expectation.only == .fallback && !replayed.contains(label) { return }

        // Fail early on a placeholder that names nothing, rather than as "line not found".
        for line in expectation.lines { _ = try line.pattern(values: values) }
        let matches: ([String]) -> Int? = { [values] output in
            do {
                return try firstMissingLine(expectation.lines, in: output, values: values)
            } catch {
                return 0
            }
        }

        let output: [String]
        if label == "timeline" {
            output = timeline
        } else {
            guard let child = processes[label] else {
                throw failure(step, "nothing labelled [\(label)] has run", output: [])
            }
            if expectation.absent {
                // Absence can only be judged once the output is complete (or the wait is over).
                _ = child.waitForExit(timeout: child.exitStatus == nil && !isBackground(child) ? expectation.timeout : 0.2)
            } else {
                _ = child.wait(timeout: expectation.timeout, until: { matches($0) == nil }, stream: expectation.stream)
            }
            output = child.lines(expectation.stream)
        }

        let source = replayed.contains(label) ? " (replayed from a capture)" : ""
        if expectation.absent {
            for line in expectation.lines {
                if let offending = try output.first(where: { try line.matches($0, values: values) }) {
                    throw failure(step, "[\(label)]\(source) printed what it must not: \"\(line)\"\n  in: \(offending)",
                                  output: output)
                }
            }
            return
        }
        if let missing = matches(output) {
            var report = "[\(label)]\(source)\(expectation.stream.map { " on \($0.rawValue)" } ?? ""): expected, in order:"
            for (index, line) in expectation.lines.enumerated() {
                let mark = index < missing ? "found  " : index == missing ? "MISSING" : "       "
                report += "\n  \(mark) \(line)"
            }
            throw failure(step, report, output: output)
        }
    }

    private func isBackground(_ child: ChildProcess) -> Bool {
        lesson.steps.contains { $0.commands.contains { $0.label == child.label && $0.background } }
    }

    /// Lines of several commands that start with a time of day (trace lines, packets), merged in
    /// time order: the program's view and the wire's view on one timeline.
    private func mergeTimeline(_ labels: [String]) {
        var stamped: [(time: String, index: Int, text: String)] = []
        for label in labels {
            guard let child = processes[label] else { continue }
            for line in child.lines() {
                guard let time = Self.timeOfDay(at: line) else { continue }
                stamped.append((time, stamped.count, "[\(label)] \(line)"))
            }
        }
        stamped.sort { ($0.time, $0.index) < ($1.time, $1.index) }
        timeline = stamped.map(\.text)
        // A timeline holding a replayed capture (or missing a skipped command) is not live: its
        // `live` expectations are skipped; with every command skipped, so are all of them.
        skipped.remove("timeline")
        replayed.remove("timeline")
        if labels.allSatisfy(skipped.contains) {
            skipped.insert("timeline")
        } else if labels.contains(where: { replayed.contains($0) || skipped.contains($0) }) {
            replayed.insert("timeline")
        }
        show.note("one timeline: \(labels.joined(separator: ", ")), merged by time stamp")
        let recorded = labels.filter(replayed.contains)
        if !recorded.isEmpty {
            show.note("\(recorded.map { "[\($0)]" }.joined(separator: ", ")) replayed a recording: its times are from when it was made, so its lines sort apart")
        }
        for line in timeline { show.say("  " + line) }
    }

    // MARK: - Helpers

    private func failure(_ step: Step, _ what: String, output: [String]) -> LessonError {
        var text = "lesson \(lesson.number) (\(lesson.path)), step \(step.number) \"\(step.title)\": \(what)"
        if output.contains(where: { $0.contains("command not found") || $0.contains("No such file or directory") }) {
            text += "\n  (tools are taken from \(options.binDirectory) first: build them with `swift build`)"
        }
        if !output.isEmpty {
            text += "\n  output (last \(min(output.count, 25)) lines):"
            for line in output.suffix(25) { text += "\n  | " + line }
        } else {
            text += "\n  (no output)"
        }
        return LessonError.stepFailed(text)
    }

    /// `{tmp}` only: what is known before the lesson starts (for cleanup scripts).
    private func substituteFixed(_ script: String) -> String {
        script.replacingOccurrences(of: "{tmp}", with: temporaryFolder)
    }

    /// `{tmp}`, `{port:NAME}` and `{pid:NAME}` in a script.
    private func substitute(_ script: String, step: Step) throws -> String {
        var result = substituteFixed(script)
        let regex = try NSRegularExpression(pattern: #"\{(port|pid):([A-Za-z0-9_.-]+)\}"#)
        for match in regex.matches(in: result, range: NSRange(result.startIndex..., in: result)).reversed() {
            guard let range = Range(match.range, in: result) else { continue }
            let key = String(result[range].dropFirst().dropLast())
            guard let value = values[key] else {
                throw failure(step, "{\(key)} is unknown here: no earlier command labelled \(key.split(separator: ":")[1]) "
                                  + (key.hasPrefix("port") ? "printed a port in its ready line" : "has run"), output: [])
            }
            result.replaceSubrange(range, with: value)
        }
        return result
    }

    /// The port in a readiness line: `... port 8000 ...` (http-server) or the last `:NNNN`
    /// (`server start, listening 127.0.0.1:43210`, `[::1]:43210`).
    public static func port(in line: String) -> Int? {
        if let range = line.range(of: #"port ([0-9]{1,5})"#, options: .regularExpression) {
            return Int(line[range].dropFirst(5))
        }
        var found: Int?
        var rest = Substring(line)
        while let colon = rest.firstIndex(of: ":") {
            rest = rest[rest.index(after: colon)...]
            let digits = rest.prefix(while: \.isNumber)
            if !digits.isEmpty, digits.count <= 5, rest.dropFirst(digits.count).first.map({ !$0.isLetter && $0 != "." }) ?? true {
                found = Int(digits)
            }
        }
        return found
    }

    /// `20:32:38.838461` at the start of a line (after spaces), if there is one.
    static func timeOfDay(at line: String) -> String? {
        let trimmed = line.drop { $0 == " " }
        let candidate = trimmed.prefix { $0.isNumber || $0 == ":" || $0 == "." }
        let parts = candidate.split(separator: ":")
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count >= 9,
              parts[2].contains(".") else { return nil }
        return String(candidate)
    }
}
