@preconcurrency import Glibc

/// Reads the lesson format (see `lessons/README.md`): ordinary Markdown in which
///
/// - `# Title` names the lesson,
/// - `## Step N: title` starts a step; any other `## ` heading after the steps (`## Exercises`)
///   ends them,
/// - fenced code blocks whose info string starts with `run`, `fallback`, `expect`, `timeline`,
///   `stop` or `cleanup` are instructions for the runner; every other code block is just shown.
///
/// The info string carries attributes: bare words (`background`, `root`, `absent`) and
/// `key=value` pairs, with double quotes around values that hold spaces (`ready="listening on"`).
public struct LessonParser {
    public init() {}

    /// Reads the lesson in the file at `path`; its number comes from the file name's leading digits.
    public func parse(file path: String) throws -> Lesson {
        let text = try readLessonFile(path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let number = Int(name.prefix(while: \.isNumber)) ?? 0
        return try parse(text, path: path, number: number)
    }

    /// Reads a lesson from its Markdown text.
    public func parse(_ text: String, path: String = "<lesson>", number: Int = 0) throws -> Lesson {
        var lesson = Lesson(number: number, path: path, title: "", introduction: "", steps: [],
                            closing: "", cleanup: [])
        var prose: [String] = []          // prose of the current section
        var step: Step?                   // the step being read
        var afterSteps = false            // a non-step `##` heading came after the steps
        var lastLabel: String?            // label of the last run/timeline block in this step
        var labelsSoFar: Set<String> = []

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0

        func fail(_ message: String) -> LessonError {
            .format(path: path, line: index + 1, message: message)
        }
        func flushProse() -> String {
            defer { prose = [] }
            return prose.joined(separator: "\n").trimmingBlankLines()
        }
        /// Prose read so far inside a step: the explanation when no block came yet, else a
        /// `.prose` block, shown where it stands (between two commands, after an expectation).
        func placeProse() {
            guard step != nil else { return }
            let text = flushProse()
            guard !text.isEmpty else { return }
            if step!.blocks.isEmpty && step!.explanation.isEmpty {
                step!.explanation = text
            } else {
                step!.blocks.append(.prose(text))
            }
        }
        func finishStep() {
            placeProse()
            if let finished = step {
                lesson.steps.append(finished)
                step = nil
            }
        }

        while index < lines.count {
            let line = lines[index]
            if let fence = Fence(opening: line) {
                let start = index
                var body: [String] = []
                index += 1
                while index < lines.count && !fence.isClosed(by: lines[index]) {
                    body.append(lines[index])
                    index += 1
                }
                if index == lines.count {
                    throw LessonError.format(path: path, line: start + 1, message: "code block is never closed")
                }
                index += 1
                let content = body.joined(separator: "\n")
                try FenceWords.check(fence, path: path, line: start + 1)
                guard let kind = fence.kind else {
                    // An ordinary code block: part of the prose.
                    prose.append(line)
                    prose.append(contentsOf: body)
                    prose.append(lines[index - 1])
                    continue
                }
                let attributes: Attributes
                do { attributes = try Attributes(fence.info) } catch let error as AttributeError {
                    throw LessonError.format(path: path, line: start + 1, message: error.message)
                }
                if kind != "cleanup" && kind != "fallback" { placeProse() }
                if kind == "cleanup" {
                    lesson.cleanup.append(content)
                    continue
                }
                guard step != nil else {
                    throw LessonError.format(path: path, line: start + 1,
                                             message: "a ```\(kind) block must be inside a `## Step N: title` section")
                }
                let block: Block?
                switch kind {
                case "run":
                    let label = attributes["label"] ?? Self.defaultLabel(for: content)
                    if label.isEmpty {
                        // Output is shown under the label, and expect/stop name the command by it.
                        throw LessonError.format(path: path, line: start + 1, message: "label= needs a name")
                    }
                    var command = Command(script: content, label: label)
                    command.background = attributes.has("background")
                    command.ready = attributes["ready"]
                    command.needsRoot = attributes.has("root")
                    command.traced = attributes.has("trace")
                    command.expectedStatus = try status(attributes, line: start + 1, path: path)
                    command.timeout = try seconds(attributes["timeout"], default: command.background ? 15 : 30,
                                                  line: start + 1, path: path)
                    if command.ready != nil && !command.background {
                        throw LessonError.format(path: path, line: start + 1, message: "ready= only makes sense with background")
                    }
                    lastLabel = label
                    labelsSoFar.insert(label)
                    block = .run(command)
                case "fallback":
                    guard case .run(var command)? = step?.blocks.last, command.needsRoot, command.fallback == nil else {
                        throw LessonError.format(path: path, line: start + 1,
                                                 message: "a ```fallback block must follow a ```run root block")
                    }
                    var fallback = Fallback(script: content)
                    fallback.expectedStatus = try status(attributes, line: start + 1, path: path)
                    fallback.timeout = try seconds(attributes["timeout"], default: 30, line: start + 1, path: path)
                    command.fallback = fallback
                    step?.blocks.removeLast()
                    step?.blocks.append(.run(command))
                    block = nil
                case "expect" where attributes.has("order"):
                    guard labelsSoFar.contains("timeline") else {
                        throw LessonError.format(path: path, line: start + 1, message: "```expect order checks a ```timeline: put one before it")
                    }
                    let only: Expectation.Mode? = attributes.has("live") ? .live : attributes.has("fallback") ? .fallback : nil
                    let timeout = try seconds(attributes["timeout"], default: 10, line: start + 1, path: path)
                    do {
                        block = .order(try OrderExpectation(lines: body, only: only, timeout: timeout))
                    } catch {
                        throw LessonError.format(path: path, line: start + 1, message: error.message)
                    }
                case "expect":
                    guard let label = attributes["label"] ?? lastLabel else {
                        throw LessonError.format(path: path, line: start + 1,
                                                 message: "```expect has no label= and no command before it in this step")
                    }
                    guard labelsSoFar.contains(label) || label == "timeline" else {
                        throw LessonError.format(path: path, line: start + 1,
                                                 message: "```expect label=\(label): no command has that label before it")
                    }
                    let expected = body.map { $0.trimmed(" \t") }.filter { !$0.isEmpty }
                    if expected.isEmpty {
                        throw LessonError.format(path: path, line: start + 1, message: "```expect block is empty")
                    }
                    var expectation = Expectation(label: label, lines: expected.map(ExpectedLine.init))
                    if let stream = attributes["stream"] {
                        guard let parsed = OutputStream(rawValue: stream) else {
                            throw LessonError.format(path: path, line: start + 1, message: "stream= must be stdout or stderr")
                        }
                        expectation.stream = parsed
                    }
                    if attributes.has("live") { expectation.only = .live }
                    if attributes.has("fallback") { expectation.only = .fallback }
                    expectation.absent = attributes.has("absent")
                    expectation.timeout = try seconds(attributes["timeout"], default: 10, line: start + 1, path: path)
                    block = .expect(expectation)
                case "timeline":
                    let labels = (attributes["labels"] ?? "").split(separator: ",").map(String.init)
                    if labels.isEmpty {
                        throw LessonError.format(path: path, line: start + 1, message: "```timeline needs labels=a,b")
                    }
                    lastLabel = "timeline"
                    labelsSoFar.insert("timeline")
                    block = .timeline(labels: labels)
                case "stop":
                    guard let label = attributes["label"], labelsSoFar.contains(label) else {
                        throw LessonError.format(path: path, line: start + 1,
                                                 message: "```stop needs label= naming an earlier background command")
                    }
                    let signal: Int32
                    switch attributes["signal"] ?? "TERM" {
                    case "TERM", "SIGTERM": signal = SIGTERM
                    case "INT", "SIGINT": signal = SIGINT
                    default:
                        throw LessonError.format(path: path, line: start + 1, message: "signal= must be INT or TERM")
                    }
                    block = .stop(label: label, signal: signal)
                default:
                    block = nil
                }
                if let block { step?.blocks.append(block) }
                continue
            }

            if line.hasPrefix("# ") && lesson.title.isEmpty {
                lesson.title = String(line.dropFirst(2)).trimmed(" \t")
            } else if line.hasPrefix("## ") {
                let heading = String(line.dropFirst(3)).trimmed(" \t")
                if let (number, title) = Self.stepHeading(heading) {
                    if afterSteps {
                        throw fail("`## Step \(number)` comes after the section that ended the steps")
                    }
                    if step == nil && lesson.steps.isEmpty {
                        lesson.introduction = flushProse()
                    }
                    finishStep()
                    let expected = lesson.steps.count + 1
                    if number != expected { throw fail("step \(number) should be numbered \(expected)") }
                    step = Step(number: number, title: title, explanation: "", blocks: [])
                    lastLabel = nil
                } else {
                    // Any other section heading after a step ends the steps (`## Exercises`).
                    if step != nil {
                        finishStep()
                        afterSteps = true
                    }
                    prose.append(line)
                }
            } else {
                prose.append(line)
            }
            index += 1
        }
        if step != nil {
            finishStep()
        } else if lesson.steps.isEmpty {
            lesson.introduction = flushProse()
        }
        lesson.closing = flushProse()
        if lesson.title.isEmpty {
            throw LessonError.format(path: path, line: 1, message: "a lesson starts with a `# Title` line")
        }
        if lesson.steps.isEmpty {
            throw LessonError.format(path: path, line: 1, message: "no `## Step 1: title` section")
        }
        return lesson
    }

    /// `Step 3: Connect` → (3, "Connect").
    static func stepHeading(_ heading: String) -> (Int, String)? {
        guard heading.hasPrefix("Step ") else { return nil }
        let rest = heading.dropFirst(5)
        let digits = rest.prefix(while: \.isNumber)
        guard let number = Int(digits) else { return nil }
        var title = rest.dropFirst(digits.count)
        if title.first == ":" || title.first == "." { title = title.dropFirst() }
        return (number, String(title).trimmed(" \t"))
    }

    /// Without `label=`, a command is shown under its program's name (`echo-client`), skipping
    /// wrappers such as `ip netns exec NAME` and `sudo`.
    static func defaultLabel(for script: String) -> String {
        let firstLine = script.split(separator: "\n").first { !String($0).trimmed(" \t").hasPrefix("#") } ?? ""
        var words = firstLine.split(separator: " ").map(String.init)
        if words.count >= 4 && words[0] == "ip" && words[1] == "netns" && words[2] == "exec" {
            words.removeFirst(4)
        }
        while let first = words.first, first == "sudo" || first == "exec" || first.contains("=") {
            words.removeFirst()
        }
        let program = words.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        return program.isEmpty ? "run" : program
    }

    private func status(_ attributes: Attributes, line: Int, path: String) throws -> Int32? {
        guard let value = attributes["status"] else { return 0 }
        if value == "any" { return nil }
        guard let status = Int32(value) else {
            throw LessonError.format(path: path, line: line, message: "status= must be a number or any")
        }
        return status
    }

    private func seconds(_ value: String?, default fallback: Double, line: Int, path: String) throws -> Double {
        guard let value else { return fallback }
        guard let seconds = Double(value), seconds > 0 else {
            throw LessonError.format(path: path, line: line, message: "timeout= must be a positive number of seconds")
        }
        return seconds
    }
}
