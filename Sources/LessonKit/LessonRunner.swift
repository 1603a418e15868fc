import Foundation
import SocketCore
import Timeline

/// Runs a lesson: shows each step, starts its commands, checks what they print, and always
/// stops what it started.
public final class LessonRunner {
    /// How the lesson is being run.
    public enum RunMode: Sendable {
        /// `lesson run N`: waits for Enter before each step.
        case interactive
        /// `lesson run N --auto`: the same, without pauses.
        case auto
        /// `lesson check`: unattended; output hidden unless verbose; a failing check is an error.
        case check
    }

    public struct Options: Sendable {
        public var mode: RunMode
        /// Steps before this one run quietly, so the servers they start are there (`--step N`).
        public var firstStep: Int = 1
        /// Seconds to wait after each step (`--pace`), so a class can follow; interactively the
        /// Enter prompt comes after the wait.
        public var pace = 0.0
        /// Root-only commands run from their recorded captures even as root (`--from-captures`).
        public var fromCaptures = false
        /// Folder put first on PATH: where the built tools are.
        public var binDirectory: String
        /// Where the lesson's events go as they happen (`--serve`); nil for nowhere.
        public var timeline: LessonTimelineFeed?
        /// The projector's form (`lesson run` without `--verbose`): watchers' lines shown as
        /// `--brief` prints them and checked whole (`LinesForm.paired`), and a bulk transfer as
        /// one line a second (`BulkTransferRun`).
        public var projectorForm = false

        public init(mode: RunMode, binDirectory: String) {
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
        /// Expectations (`expect`, `expect order`) checked and found true.
        public var checks = 0
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
    /// The last timeline shown, for `expect order`.
    private var merged: MergedTimeline?
    /// Whether the last timeline showed a recording whose events were recorded with it.
    private var timelineHasRecordedEvents = false
    /// The captures a replayed label read (`-r FILE` in its fallback): their sidecars hold the
    /// system calls recorded with them.
    private var replayedCaptures: [String: [String]] = [:]
    private var temporaryFolder = ""
    /// Holds a background command's lines that arrive after its step (`StepOutput`).
    private let stepOutput: StepOutput
    private var currentStep = 0
    private var report = Report()
    private var quiet = false

    public init(lesson: Lesson, options: Options, presenter: Presenter, isRoot: Bool = geteuid() == 0) {
        self.lesson = lesson
        self.options = options
        self.presenter = presenter
        self.isRoot = isRoot
        stepOutput = StepOutput(collapsesBulk: options.projectorForm)
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
        // A lesson none of whose commands will run (all root-only, skipped) sets nothing up: its
        // cleanup could only remove what another run of it, as root, has set up.
        let runsNothing = !runsLive && lesson.steps.flatMap(\.commands).allSatisfy { $0.needsRoot && $0.fallback == nil }
        if !runsNothing {
            supervisor.setCleanup(lesson.cleanup.map(substituteFixed), environment: environment)
            // A set left behind by a crash (lesson 10's namespaces) goes before anything starts.
            if !lesson.cleanup.isEmpty { supervisor.runCleanup() }
        }

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
                Syscall.sleep(seconds: min(max(options.pace, 0), 60))
            }
        }
        // Servers and watchers go before the exercises are shown, so their last lines come first.
        show.note("stopping everything the lesson started")
        supervisor.stopChildren()
        stepOutput.showLate(show)
        if !supervisor.escapedProcesses.isEmpty {
            throw LessonError.stepFailed("could not stop every process the lesson started: pid "
                                         + supervisor.escapedProcesses.map(String.init).joined(separator: ", ")
                                         + " still running after SIGKILL")
        }
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
        // The runner fits what it shows to its width itself; its checks read the watchers' whole
        // lines. Without --verbose, watchers print each line twice, brief (shown) and whole (checked).
        environment["COLUMNS"] = nil
        environment[LinesForm.variable] = (options.projectorForm ? LinesForm.paired : .whole).rawValue
        if let timeline = options.timeline { environment[LessonTimelineFeed.eventsFileVariable] = timeline.eventsFile }
        return environment
    }

    // MARK: - Steps

    /// The Enter prompt before `step`; `q` quits, `v` shows the lines the last step's
    /// summaries stood for (then asks again).
    private func prompt(before step: LessonStep) throws {
        let summed = stepOutput.summedInLastStep
        if summed > 0 { presenter.note("\(summed) lines of the last step are summed up: v and Enter shows them") }
        while true {
            Console.line("[Enter: run step \(step.number), q: quit]")
            guard let answer = readLine()?.lowercased() else { return }
            if answer.hasPrefix("q") { throw LessonError.interrupted }
            guard answer.hasPrefix("v"), summed > 0 else { return }
            stepOutput.showSummed(presenter)
        }
    }

    private func run(_ step: LessonStep) throws {
        stepOutput.showLate(show)
        stepOutput.enter(step.number)
        currentStep = step.number
        show.stepHeading("Step \(step.number)/\(lesson.steps.count): \(step.title)")
        show.prose(step.explanation)
        if !quiet { options.timeline?.step(step, lesson: lesson.number) }
        // Interactively before every step; with --auto once, before the --step the class starts
        // at, when the earlier steps have quietly set the scene.
        let prompts = options.mode == .interactive || (options.mode == .auto && step.number == options.firstStep
                                                       && options.firstStep > 1)
        if prompts && !quiet {
            try prompt(before: step)
        }
        for (index, block) in step.blocks.enumerated() {
            if Supervisor.shared.isClosing { throw LessonError.interrupted }
            stepOutput.showLate(show)
            switch block {
            case .run(let command): try run(command, in: step)
            case .expect(let expectation): try check(expectation, in: step)
            case .order(let expectation): try check(expectation, in: step)
            case .timeline(let labels): showTimeline(labels, checkedBy: step.blocks[(index + 1)...])
            case .prose(let text): show.prose("\n" + text)
            case .modeProse(let text, let only):
                if (only == .live) == runsLive { show.prose("\n" + text) }
            case .stop(let label, let signal):
                show.note("stopping [\(label)]")
                processes[label]?.stop(signal: signal, grace: 5)
            }
        }
    }

    /// Runs one command: live, or its recorded fallback without root, or not at all; then waits
    /// for its readiness line (background) or its exit (foreground).
    ///
    /// A `trace` command runs under our tracer (`handshake-watch -- bash -c SCRIPT`): its calls
    /// come out as the watcher's lines, on the timeline like our own tools' `--trace`.
    private func run(_ command: Command, in step: LessonStep) throws {
        guard let launch = try plan(command, in: step) else { return }
        var script = try substitute(launch.script, step: step)
        if command.traced && !replayed.contains(command.label) {
            script = "handshake-watch -- bash -e -o pipefail -c " + Self.shellQuoted(script)
        }
        show.command(script, label: command.label, background: launch.background)
        let child = try start(script, label: command.label)
        if launch.background {
            try awaitReadiness(child, command.ready, timeout: launch.timeout, in: step)
        } else {
            try awaitExit(child, expecting: launch.expectedStatus, timeout: launch.timeout, in: step)
        }
    }
    ///
    /// A `trace` command runs under our tracer (`handshake-watch -- bash -c SCRIPT`): its calls
    /// come out as the watcher's lines, on the timeline like our own tools' `--trace`.

    /// `text` as one bash word: in single quotes, each `'` written `'\''`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// What will run for a command: the command itself, or (a root-only command without root)
    /// its fallback, which replays a recorded capture; nil when it is skipped.
    private struct Launch {
        var script: String
        var expectedStatus: Int32?
        var timeout: Double
        var background: Bool
    }

    private func plan(_ command: Command, in step: LessonStep) throws -> Launch? {
        guard command.needsRoot && !runsLive else {
            replayed.remove(command.label)
            skipped.remove(command.label)
            if command.needsRoot { show.note("[\(command.label)] needs root: running live") }
            return Launch(script: command.script, expectedStatus: command.expectedStatus,
                          timeout: command.timeout, background: command.background)
        }
        guard let fallback = command.fallback else {
            show.note("step \(step.number) needs root for [\(command.label)]: skipped")
            skipped.insert(command.label)
            report.skipped.append("step \(step.number) [\(command.label)]")
            return nil
        }
        show.note("[\(command.label)] needs root" + (isRoot ? "" : " (this is not root)")
                  + ": replaying a recorded capture instead")
        replayed.insert(command.label)
        skipped.remove(command.label)
        replayedCaptures[command.label] = Self.capturesRead(by: try substitute(fallback.script, step: step))
        let lines = fallback.script.split(separator: "\n")
        report.fallbacks.append("step \(step.number) [\(command.label)]: \(lines.first ?? "")" + (lines.count > 1 ? " ..." : ""))
        return Launch(script: fallback.script, expectedStatus: fallback.expectedStatus,
                      timeout: fallback.timeout, background: false)
    }

    /// Starts the script as a child of the supervisor; its lines go to the screen (and to the
    /// live view's timeline) as they come.
    private func start(_ script: String, label: String) throws -> ChildProcess {
        let presenter = show
        let (timeline, pid) = (options.timeline, ProcessID())
        let (stepOutput, startedIn) = (self.stepOutput, currentStep)
        // On a terminal without NO_COLOR (the presenter's colours), handshake-watch colours too.
        let executed = presenter.useColor ? Terminal.colouringHandshakeWatch(script) : script
        let child = try ChildProcess(label: label, script: executed, strict: true, environment: environment,
                                     readsPairs: options.projectorForm) { line in
            stepOutput.line(line.shown ?? line.text, whole: line.shown == nil ? nil : line.text, label: label, stream: line.stream,
                            startedIn: startedIn, presenter: presenter)
            if !line.text.isEmpty { timeline?.line(line, label: label, pid: pid.value) }
        }
        pid.value = Int(child.pid)
        try Supervisor.shared.adopt(child)
        processes[label] = child
        values["pid:\(label)"] = String(child.pid)
        return child
    }

    /// A background command is ready when it prints `ready=` (its port is read from that line).
    private func awaitReadiness(_ child: ChildProcess, _ ready: String?, timeout: Double, in step: LessonStep) throws {
        guard let ready else { return }
        let label = child.label
        let found = child.wait(timeout: timeout) { lines in lines.contains { $0.contains(ready) } }
        guard found, let line = child.lines().first(where: { $0.contains(ready) }) else {
            let why = child.exitStatus.map { "exited with status \($0)" } ?? "printed nothing like it within \(Int(timeout)) s"
            throw failure(step, "[\(label)] was to print \"\(ready)\" when ready, but \(why)", output: child.lines())
        }
        if let port = Self.port(in: line) { values["port:\(label)"] = String(port) }
    }

    /// A foreground command must end within its timeout, with the status it promised.
    private func awaitExit(_ child: ChildProcess, expecting expectedStatus: Int32?, timeout: Double, in step: LessonStep) throws {
        let label = child.label
        guard let status = child.waitForExit(timeout: timeout) else {
            child.stop(grace: 2)
            throw failure(step, "[\(label)] did not finish within \(Int(timeout)) s", output: child.lines())
        }
        if let expectedStatus, status != expectedStatus {
            throw failure(step, "[\(label)] exited with status \(status), expected \(expectedStatus)", output: child.lines())
        }
    }

    // MARK: - Checking output

    private func check(_ expectation: Expectation, in step: LessonStep) throws {
        let label = expectation.label
        if skipped.contains(label) { return }
        if expectation.only == .live && replayed.contains(label) { return }
        if expectation.only == .fallback && !replayed.contains(label) { return }

        // Fail early on a placeholder that names nothing, rather than as "line not found".
        for line in expectation.lines { _ = try line.matcher(values: values) }
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
            passed("[\(label)]\(source) never printed " + expectation.lines.map { "\"\($0)\"" }.joined(separator: ", "))
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
        passed("[\(label)]\(source) " + expectation.lines.map(\.text).joined(separator: " · "))
    }

    /// An expectation held: counted, and shown as `✓ checked: ...`, so the class sees every
    /// check the lesson makes.
    private func passed(_ what: String) {
        report.checks += 1
        show.checked(what)
    }

    private func isBackground(_ child: ChildProcess) -> Bool {
        lesson.steps.contains { $0.commands.contains { $0.label == child.label && $0.background } }
    }

    /// Whether a timeline expectation applies to the timeline as it is (live or recorded).
    private func applies(_ only: Expectation.Source?) -> Bool {
        if skipped.contains("timeline") { return false }
        if only == .live && replayed.contains("timeline") { return false }
        if only == .fallback && !replayed.contains("timeline") { return false }
        return true
    }

    private func check(_ order: OrderExpectation, in step: LessonStep) throws {
        guard applies(order.only) else { return }
        guard let merged else { throw failure(step, "```expect order: no timeline was shown before it", output: []) }
        if replayed.contains("timeline") && !timelineHasRecordedEvents {
            show.note("order not checked: the recording has no system calls beside it")
            return
        }
        if let problem = try order.failure(in: merged.items, values: values) {
            throw failure(step, problem, output: merged.lines)
        }
        passed("in this order: " + order.events.map(\.line.text).joined(separator: " → "))
    }

    // MARK: - Timelines

    /// Shows the events of several commands on one timeline, by epoch time (`MergedTimeline`).
    ///
    /// When a label replayed a capture, the timeline is that recording: its packets and the
    /// system calls recorded with them (the capture's `.events.jsonl`), all from one run. Live
    /// lines of this lesson run are shown in their own steps, never mixed with a recording.
    ///
    /// A command's lines can lag behind in its pipe, so before showing, the runner waits (bounded)
    /// until the expectations that follow in the step find the events they name.
    private func showTimeline(_ labels: [String], checkedBy following: ArraySlice<Block>) {
        skipped.remove("timeline")
        replayed.remove("timeline")
        if labels.allSatisfy(skipped.contains) {
            skipped.insert("timeline")
        } else if labels.contains(where: { replayed.contains($0) || skipped.contains($0) }) {
            replayed.insert("timeline")
        }
        let recorded = labels.filter(replayed.contains)
        // A recording is complete (its replay ran in the foreground): nothing to wait for.
        let deadline = Clock.monotonic() + (recorded.isEmpty ? waitBound(following) : 0)
        var current = MergedTimeline(recorded.isEmpty ? liveEvents(labels) : recordedEvents(recorded))
        while !isComplete(current, for: following) && Clock.monotonic() < deadline {
            Syscall.sleep(seconds: 0.02)
            current = MergedTimeline(recorded.isEmpty ? liveEvents(labels) : recordedEvents(recorded))
        }
        merged = current
        timeline = current.lines
        timelineHasRecordedEvents = current.events.contains { $0.type == "syscall" }
        if recorded.isEmpty {
            // A label that gave nothing: misnamed in spirit, or a command that printed nothing
            // the timeline reads (no --trace, no packets). Said, not silently left out.
            let heard = Set(current.events.compactMap(\.label))
            for label in labels where !skipped.contains(label) && !heard.contains(label) {
                show.warning("timeline: [\(label)] gave no events (no --trace lines, packets or output)")
            }
            show.note("one timeline: \(labels.joined(separator: ", ")), merged by time; a call that spans other events is split: `call(...) ...` at its start, `... call() -> result` at its return")
        } else {
            describeRecording(recorded, live: labels.filter { !recorded.contains($0) && !skipped.contains($0) })
        }
        for line in timeline { show.say("  " + line) }
    }

    /// Says what a timeline from a recording shows, and where today's lines are.
    private func describeRecording(_ recorded: [String], live: [String]) {
        for label in recorded {
            guard let capture = replayedCaptures[label]?.first else { continue }
            let sidecar = EventsFile.sidecarPath(forCapture: capture)
            let others = (replayedCaptures[label]?.count ?? 1) - 1
            let which = others > 0 ? " (the first of the \(others + 1) captures it replays)" : ""
            if FileManager.default.fileExists(atPath: sidecar) {
                show.note("one timeline, from a recording: [\(label)] replayed \(capture)\(which); the system calls are the ones recorded with it (\(sidecar)), all from one run")
            } else {
                show.note("one timeline, from a recording: [\(label)] replayed \(capture)\(which), which has no recorded events beside it: its packets only")
            }
        }
        if !live.isEmpty {
            show.note("\(live.map { "[\($0)]" }.joined(separator: ", ")) ran live in this lesson: their lines are in the steps above, not on a recording's timeline")
        }
    }

    /// The events of live commands, each line stamped where it happened.
    private func liveEvents(_ labels: [String]) -> [TimelineEvent] {
        labels.flatMap { label -> [TimelineEvent] in
            guard !skipped.contains(label), let child = processes[label] else { return [] }
            return ProcessEvents.events(label: label, pid: Int(child.pid), lines: child.receivedLines())
        }
    }

    /// A recording: the packet lines a label replayed from its (first) capture, and the system
    /// calls and output recorded in that capture's sidecar. One capture, so one run: a replay of
    /// several captures would put runs from different moments on one timeline.
    private func recordedEvents(_ labels: [String]) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        for label in labels {
            guard let capture = replayedCaptures[label]?.first, let child = processes[label] else { continue }
            let all = ((try? EventsFile.read(path: EventsFile.sidecarPath(forCapture: capture))) ?? nil)?.events
                .filter { $0.type == "syscall" || $0.type == "output" || $0.type == "link-drop" } ?? []
            // A recorded stdout line is shown at its write's stamp, in place of the write(fd 1).
            let outputs = Set(all.filter { $0.type == "output" }.map { "\($0.label ?? "")@\($0.time)" })
            events += all.filter { StdoutWrite.lines(of: $0) == nil || !outputs.contains("\($0.label ?? "")@\($0.time)") }
            // A replay of several captures printed them all: keep the packets of this one's run,
            // by the span of its recorded events, or (without any) after its `reading from file`.
            let several = (replayedCaptures[label]?.count ?? 1) > 1
            let lines = several && all.isEmpty ? ProcessEvents.lines(of: capture, in: child.receivedLines()) : child.receivedLines()
            var packets = ProcessEvents.replayed(label: label, lines: lines, recordedAround: all.first?.time ?? Clock.now(), besides: all)
            if several, let first = all.map(\.time).min(), let last = all.map(\.end).max() {
                packets.removeAll { $0.time < first || $0.time > last }
            }
            events += packets
        }
        return events
    }

    /// How long a timeline may wait for the events its expectations name: their longest timeout.
    private func waitBound(_ following: ArraySlice<Block>) -> Double {
        var bound = 0.0
        for block in following {
            switch block {
            case .timeline: return bound
            case .order(let order) where applies(order.only): bound = max(bound, order.timeout)
            case .expect(let expectation) where expectation.label == "timeline" && applies(expectation.only):
                bound = max(bound, expectation.timeout)
            default: continue
            }
        }
        return bound
    }

    /// Whether every event the expectations after a timeline name (up to the next timeline) is on it.
    private func isComplete(_ timeline: MergedTimeline, for following: ArraySlice<Block>) -> Bool {
        for block in following {
            switch block {
            case .timeline:
                return true
            case .order(let order) where applies(order.only):
                guard let found = try? order.positions(in: timeline.items, values: values),
                      !found.contains(where: { $0 == nil }) else { return false }
            case .expect(let expectation) where expectation.label == "timeline" && applies(expectation.only) && !expectation.absent:
                guard (try? firstMissingLine(expectation.lines, in: timeline.lines, values: values)) == .some(nil) else { return false }
            default:
                continue
            }
        }
        return true
    }

    /// The captures a replay reads: every word of its script that names a capture file
    /// (`-r captures/echo-ipv4.pcap`, or a list a loop goes through).
    static func capturesRead(by script: String) -> [String] {
        let separators: Set<Character> = [" ", "\n", "\t", ";"]
        return script.split(whereSeparator: separators.contains).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
    }

    // MARK: - Helpers

    private func failure(_ step: LessonStep, _ what: String, output: [String]) -> LessonError {
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
    private func substitute(_ script: String, step: LessonStep) throws -> String {
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
}
