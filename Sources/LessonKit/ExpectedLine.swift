/// One line of an ```` ```expect ```` block: text that must appear inside some output line, with
/// placeholders for what changes from run to run.
///
/// | placeholder     | matches                                             |
/// |-----------------|-----------------------------------------------------|
/// | `{any}`         | any text, possibly empty                            |
/// | `{n}`           | a number (a descriptor, a byte count, a pid)        |
/// | `{port}`        | any port number                                     |
/// | `{time}`        | a time of day, `20:32:38.838461`                    |
/// | `{port:NAME}`   | exactly the port the command labelled NAME printed  |
/// | `{pid:NAME}`    | exactly the process id of the command labelled NAME |
/// | `{{` and `}}`   | a literal `{` and `}` (strace's `{sa_family=AF_INET, ...}`) |
///
/// Everything else is literal, and the match is a substring match: `SYN-ACK` matches a line that
/// holds a timestamp, addresses and an explanation around it. Any other `{name}` is an error, so
/// a typo is reported instead of silently never matching.
///
/// Matching is our own, in one pass over the line (the states of the pattern advanced together,
/// as Thompson's construction does): its cost grows with the line's length times the pattern's,
/// never exponentially, whatever `{any}`s a lesson combines.
public struct ExpectedLine: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    /// The placeholder names `{...}` may hold besides `port:NAME` and `pid:NAME`.
    public static let placeholderNames = ["any", "n", "port", "time"]

    /// Checks the line's placeholders; throws `LessonError.badPlaceholder` naming an unknown one.
    public func validate() throws {
        _ = try elements(values: nil)
    }

    /// The matcher for this line, with `{port:NAME}` and `{pid:NAME}` replaced by `values`
    /// (keys `port:NAME`, `pid:NAME`). Throws when a named value is unknown.
    public func matcher(values: [String: String]) throws -> LineMatcher {
        LineMatcher(elements: try elements(values: values))
    }

    /// Whether `line` contains a match.
    public func matches(_ line: String, values: [String: String]) throws -> Bool {
        try matcher(values: values).matches(line)
    }

    /// The pattern as a list of elements; with `values` nil, named values are only checked for form.
    func elements(values: [String: String]?) throws -> [LineMatcher.Element] {
        var elements: [LineMatcher.Element] = []
        let bytes = Array(text.utf8)
        var index = 0
        func literal(_ text: String) { elements += text.utf8.map { .byte($0) } }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "{") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "{") {
                elements.append(.byte(byte)); index += 2; continue
            }
            if byte == UInt8(ascii: "}") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "}") {
                elements.append(.byte(byte)); index += 2; continue
            }
            guard byte == UInt8(ascii: "{"), let close = bytes[index...].firstIndex(of: UInt8(ascii: "}")) else {
                elements.append(.byte(byte)); index += 1; continue
            }
            let name = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
            switch name {
            case "any": elements.append(.any)
            case "n": elements.append(.digits(min: 1, max: nil))
            case "port": elements.append(.digits(min: 1, max: 5))
            case "time":   // HH:MM:SS.uuuuuu (6 to 9 decimals)
                for piece in [2, 0, 2, 0, 2] {
                    if piece == 0 { elements.append(.byte(UInt8(ascii: ":"))) } else { elements.append(.digits(min: 2, max: 2)) }
                }
                elements.append(.byte(UInt8(ascii: ".")))
                elements.append(.digits(min: 6, max: 9))
            case _ where name.hasPrefix("port:") || name.hasPrefix("pid:"):
                if let values {
                    guard let value = values[name] else { throw LessonError.unknownValue(name) }
                    literal(value)
                }
            default:
                throw LessonError.badPlaceholder(name)
            }
            index = close + 1
        }
        return elements
    }
}

/// A compiled expected line: matches a line anywhere inside it, in one pass.
public struct LineMatcher: Sendable {
    enum Element: Sendable, Equatable {
        case byte(UInt8)
        /// `{any}`: zero or more of anything.
        case any
        /// A run of ASCII digits, at least `min` and at most `max` (nil: no limit).
        case digits(min: Int, max: Int?)
    }

    let elements: [Element]

    /// A position in the pattern: the element, and how many digits of a `.digits` were read.
    private struct State: Hashable {
        var element: Int
        var count: Int
    }

    public func matches(_ line: String) -> Bool {
        var current: [State] = []
        var seen = Set<State>()
        func add(_ state: State, to set: inout [State]) {
            guard seen.insert(state).inserted else { return }
            set.append(state)
            guard state.element < elements.count else { return }
            switch elements[state.element] {
            case .any: add(State(element: state.element + 1, count: 0), to: &set)
            case .digits(let min, _) where state.count >= min: add(State(element: state.element + 1, count: 0), to: &set)
            default: break
            }
        }
        add(State(element: 0, count: 0), to: &current)
        if current.contains(where: { $0.element == elements.count }) { return true }
        for byte in line.utf8 {
            var next: [State] = []
            seen.removeAll(keepingCapacity: true)
            for state in current where state.element < elements.count {
                switch elements[state.element] {
                case .byte(let wanted):
                    if byte == wanted { add(State(element: state.element + 1, count: 0), to: &next) }
                case .any:
                    add(state, to: &next)
                case .digits(let min, let max):
                    guard byte >= 0x30 && byte <= 0x39 else { continue }
                    if let max {
                        if state.count < max { add(State(element: state.element, count: state.count + 1), to: &next) }
                    } else {
                        add(State(element: state.element, count: Swift.min(state.count + 1, min)), to: &next)
                    }
                }
            }
            // A match may start at any byte of the line.
            add(State(element: 0, count: 0), to: &next)
            if next.contains(where: { $0.element == elements.count }) { return true }
            current = next
        }
        return false
    }
}

/// Checks that expected lines appear in `output` in order (each one after the previous match).
/// Returns nil when they all do, or the index of the first expected line that was not found.
public func firstMissingLine(_ expected: [ExpectedLine], in output: [String],
                             values: [String: String]) throws -> Int? {
    var position = 0
    for (index, line) in expected.enumerated() {
        let matcher = try line.matcher(values: values)
        var found = false
        while position < output.count {
            let candidate = output[position]
            position += 1
            if matcher.matches(candidate) {
                found = true
                break
            }
        }
        if !found { return index }
    }
    return nil
}
