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
/// Line ends may be LF or CRLF, as for any Markdown reader.
public struct LessonParser {
    public init() {}

    /// The longest `timeout=` a block may ask for: an hour. Anything longer is a typo, and a
    /// number like 1e18 must not reach the runner's clock arithmetic.
    public static let maxTimeout = 3600.0

    /// Reads the lesson in the file at `path`. Its number comes from the file name's leading
    /// digits (`03-handshake.md` is lesson 3); a file named otherwise is refused.
    public func parse(file path: String) throws -> Lesson {
        let text = try readLessonFile(path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let number = Self.number(fromFileName: name) else {
            throw LessonError.format(path: path, line: 1,
                                     message: "a lesson file is named NN-title.md (its number first, then a dash), not \(name)")
        }
        return try parse(text, path: path, number: number)
    }

    /// `03-handshake.md` → 3; nil when the name does not start with digits and a dash.
    static func number(fromFileName name: String) -> Int? {
        let digits = name.prefix(while: \.isNumber)
        guard !digits.isEmpty, digits.count <= 4, name.dropFirst(digits.count).first == "-" else { return nil }
        return Int(digits)
    }

    /// Reads a lesson from its Markdown text.
    public func parse(_ text: String, path: String = "<lesson>", number: Int = 0) throws -> Lesson {
        var reader = Reader(path: path, number: number, text: text)
        return try reader.read()
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
}

/// One pass over a lesson's lines: headings and prose in `read`, each kind of fenced block in a
/// function of its own.
private struct Reader {
    let path: String
    let lines: [String]
    var lesson: Lesson
    var index = 0
    var prose: [String] = []          // prose of the current section
    var step: LessonStep?             // the step being read
    var afterSteps = false            // a non-step `##` heading came after the steps
    var lastLabel: String?            // label of the last run/timeline block in this step
    var labelsSoFar: Set<String> = []

    init(path: String, number: Int, text: String) {
        self.path = path
        // Split on the bytes: in a Swift String "\r\n" is one Character, not "\r" then "\n".
        lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0[...], as: UTF8.self) }
        lesson = Lesson(number: number, path: path, title: "", introduction: "", steps: [], closing: "", cleanup: [])
    }

    /// The one way a lesson is refused: `path:line: message`.
    func error(at line: Int, _ message: String) -> LessonError {
        .format(path: path, line: line, message: message)
    }

    mutating func read() throws -> Lesson {
        while index < lines.count {
            let line = lines[index]
            if let fence = Fence(opening: line) {
                try readFence(fence)
                continue
            }
            if line.hasPrefix("# ") && lesson.title.isEmpty {
                lesson.title = String(line.dropFirst(2)).trimmed(" \t")
            } else if line.hasPrefix("## ") {
                try readSectionHeading(line)
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
        if lesson.title.isEmpty { throw error(at: 1, "a lesson starts with a `# Title` line") }
        if lesson.steps.isEmpty { throw error(at: 1, "no `## Step 1: title` section") }
        return lesson
    }

    // MARK: - Sections and prose

    mutating func readSectionHeading(_ line: String) throws {
        let heading = String(line.dropFirst(3)).trimmed(" \t")
        guard let (number, title) = LessonParser.stepHeading(heading) else {
            // Any other section heading after a step ends the steps (`## Exercises`).
            if step != nil {
                finishStep()
                afterSteps = true
            }
            prose.append(line)
            return
        }
        if afterSteps { throw error(at: index + 1, "`## Step \(number)` comes after the section that ended the steps") }
        if step == nil && lesson.steps.isEmpty { lesson.introduction = flushProse() }
        finishStep()
        let expected = lesson.steps.count + 1
        if number != expected { throw error(at: index + 1, "step \(number) should be numbered \(expected)") }
        step = LessonStep(number: number, title: title, explanation: "", blocks: [])
        lastLabel = nil
    }

    mutating func flushProse() -> String {
        defer { prose = [] }
        return prose.joined(separator: "\n").trimmingBlankLines()
    }

    /// Prose read so far inside a step: the explanation when no block came yet, else a `.prose`
    /// block, shown where it stands (between two commands, after an expectation).
    mutating func placeProse() {
        guard step != nil else { return }
        let text = flushProse()
        guard !text.isEmpty else { return }
        if step!.blocks.isEmpty && step!.explanation.isEmpty {
            step!.explanation = text
        } else {
            step!.blocks.append(.prose(text))
        }
    }

    mutating func finishStep() {
        placeProse()
        if let finished = step {
            lesson.steps.append(finished)
            step = nil
        }
    }

    // MARK: - Fenced blocks

    /// Reads a fenced block to its closing fence and hands it to the function for its kind; an
    /// ordinary code block stays part of the prose.
    mutating func readFence(_ fence: Fence) throws {
        let start = index + 1
        var body: [String] = []
        index += 1
        while index < lines.count && !fence.isClosed(by: lines[index]) {
            body.append(lines[index])
            index += 1
        }
        if index == lines.count { throw error(at: start, "code block is never closed") }
        index += 1
        try FenceWords.check(fence, path: path, line: start)
        guard let kind = fence.kind else {
            prose.append(lines[start - 1])
            prose.append(contentsOf: body)
            prose.append(lines[index - 1])
            return
        }
        let attributes: Attributes
        do { attributes = try Attributes(fence.info) } catch let failure as AttributeError {
            throw error(at: start, failure.message)
        }
        let block = Block(kind: kind, attributes: attributes, body: body, line: start)
        if kind == "cleanup" {
            lesson.cleanup.append(block.content)
            return
        }
        if kind != "fallback" { placeProse() }
        guard step != nil else { throw error(at: start, "a ```\(kind) block must be inside a `## Step N: title` section") }
        switch kind {
        case "run": try readRun(block)
        case "fallback": try readFallback(block)
        case "expect" where attributes.has("order"): try readOrderExpectation(block)
        case "expect": try readExpectation(block)
        case "timeline": try readTimeline(block)
        case "stop": try readStop(block)
        case "prose": try readModeProse(block)
        default: break
        }
    }

    /// What every block function gets: its attributes, its lines and where it starts.
    struct Block {
        let kind: String
        let attributes: Attributes
        let body: [String]
        let line: Int
        var content: String { body.joined(separator: "\n") }
    }

    mutating func readRun(_ block: Block) throws {
        let label = block.attributes["label"] ?? LessonParser.defaultLabel(for: block.content)
        // Output is shown under the label, and expect/stop name the command by it.
        if label.isEmpty { throw error(at: block.line, "label= needs a name") }
        var command = Command(script: block.content, label: label)
        command.background = block.attributes.has("background")
        command.ready = block.attributes["ready"]
        command.needsRoot = block.attributes.has("root")
        command.traced = block.attributes.has("trace")
        command.expectedStatus = try status(block)
        command.timeout = try timeout(block, default: command.background ? 15 : 30)
        if command.ready != nil && !command.background {
            throw error(at: block.line, "ready= only makes sense with background")
        }
        lastLabel = label
        labelsSoFar.insert(label)
        step?.blocks.append(.run(command))
    }

    mutating func readFallback(_ block: Block) throws {
        guard case .run(var command)? = step?.blocks.last, command.needsRoot, command.fallback == nil else {
            throw error(at: block.line, "a ```fallback block must follow a ```run root block")
        }
        var fallback = Fallback(script: block.content)
        fallback.expectedStatus = try status(block)
        fallback.timeout = try timeout(block, default: 30)
        command.fallback = fallback
        step?.blocks.removeLast()
        step?.blocks.append(.run(command))
    }

    mutating func readOrderExpectation(_ block: Block) throws {
        guard labelsSoFar.contains("timeline") else {
            throw error(at: block.line, "```expect order checks a ```timeline: put one before it")
        }
        let only: Expectation.Source? = block.attributes.has("live") ? .live : block.attributes.has("fallback") ? .fallback : nil
        let timeout = try timeout(block, default: 10)
        let order: OrderExpectation
        do { order = try OrderExpectation(lines: block.body, only: only, timeout: timeout) } catch {
            throw self.error(at: block.line, error.message)
        }
        for event in order.events {
            do { try event.line.validate() } catch { throw self.error(at: block.line, "\(error)") }
        }
        step?.blocks.append(.order(order))
    }

    mutating func readExpectation(_ block: Block) throws {
        guard let label = block.attributes["label"] ?? lastLabel else {
            throw error(at: block.line, "```expect has no label= and no command before it in this step")
        }
        guard labelsSoFar.contains(label) || label == "timeline" else {
            throw error(at: block.line, "```expect label=\(label): no command has that label before it")
        }
        let expected = block.body.map { $0.trimmed(" \t") }.filter { !$0.isEmpty }
        if expected.isEmpty { throw error(at: block.line, "```expect block is empty") }
        var expectation = Expectation(label: label, lines: expected.map(ExpectedLine.init))
        for (offset, line) in expectation.lines.enumerated() {
            do { try line.validate() } catch { throw self.error(at: block.line + 1 + offset, "\(error)") }
        }
        if let stream = block.attributes["stream"] {
            guard let parsed = OutputStream(rawValue: stream) else { throw error(at: block.line, "stream= must be stdout or stderr") }
            expectation.stream = parsed
        }
        if block.attributes.has("live") { expectation.only = .live }
        if block.attributes.has("fallback") { expectation.only = .fallback }
        expectation.absent = block.attributes.has("absent")
        expectation.timeout = try timeout(block, default: 10)
        step?.blocks.append(.expect(expectation))
    }

    mutating func readTimeline(_ block: Block) throws {
        let labels = (block.attributes["labels"] ?? "").split(separator: ",").map(String.init)
        if labels.isEmpty { throw error(at: block.line, "```timeline needs labels=a,b") }
        for label in labels where !labelsSoFar.contains(label) || label == "timeline" {
            throw error(at: block.line, "```timeline labels=: no command before it is labelled \(label)")
        }
        lastLabel = "timeline"
        labelsSoFar.insert("timeline")
        step?.blocks.append(.timeline(labels: labels))
    }

    /// ```` ```prose live ```` or ```` ```prose replay ````: Markdown shown in one mode only.
    mutating func readModeProse(_ block: Block) throws {
        let live = block.attributes.has("live"), replay = block.attributes.has("replay")
        guard live != replay else { throw error(at: block.line, "```prose takes live or replay (one of them)") }
        step?.blocks.append(.modeProse(block.content.trimmingBlankLines(), only: live ? .live : .fallback))
    }

    mutating func readStop(_ block: Block) throws {
        guard let label = block.attributes["label"], labelsSoFar.contains(label) else {
            throw error(at: block.line, "```stop needs label= naming an earlier background command")
        }
        let signal: Int32
        switch block.attributes["signal"] ?? "TERM" {
        case "TERM", "SIGTERM": signal = SIGTERM
        case "INT", "SIGINT": signal = SIGINT
        default: throw error(at: block.line, "signal= must be INT or TERM")
        }
        step?.blocks.append(.stop(label: label, signal: signal))
    }

    // MARK: - Attribute values

    func status(_ block: Block) throws -> Int32? {
        guard let value = block.attributes["status"] else { return 0 }
        if value == "any" { return nil }
        guard let status = Int32(value), (0...255).contains(status) else {
            throw error(at: block.line, "status= must be a number from 0 to 255, or any")
        }
        return status
    }

    /// `timeout=`: seconds, more than 0 and at most an hour; digits and one dot only, so `inf`,
    /// `nan`, `1e309` and `1e18` are refused here rather than overflowing a clock later.
    func timeout(_ block: Block, default fallback: Double) throws -> Double {
        guard let value = block.attributes["timeout"] else { return fallback }
        let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && value.filter { $0 == "." }.count <= 1
        guard plain, let seconds = Double(value), seconds > 0, seconds <= LessonParser.maxTimeout else {
            throw error(at: block.line, "timeout= must be a number of seconds, more than 0 and at most \(Int(LessonParser.maxTimeout)) (got \(value))")
        }
        return seconds
    }
}
