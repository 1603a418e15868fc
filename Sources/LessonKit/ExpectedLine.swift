import Foundation

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
///
/// Everything else is literal, and the match is a substring match: `SYN-ACK` matches a line that
/// holds a timestamp, addresses and an explanation around it.
public struct ExpectedLine: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    /// The regular expression for this line, with `{port:NAME}` and `{pid:NAME}` replaced by
    /// `values` (keys `port:NAME`, `pid:NAME`). Throws when a named value is unknown.
    public func pattern(values: [String: String]) throws -> NSRegularExpression {
        var pattern = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            pattern += NSRegularExpression.escapedPattern(for: String(rest[..<open]))
            guard let close = rest[open...].firstIndex(of: "}") else {
                rest = rest[open...]
                break
            }
            let name = String(rest[rest.index(after: open)..<close])
            if let piece = Self.placeholders[name] {
                pattern += piece
            } else if name.hasPrefix("port:") || name.hasPrefix("pid:") {
                guard let value = values[name] else { throw LessonError.unknownValue(name) }
                pattern += NSRegularExpression.escapedPattern(for: value)
            } else {
                pattern += NSRegularExpression.escapedPattern(for: "{" + name + "}")
            }
            rest = rest[rest.index(after: close)...]
        }
        pattern += NSRegularExpression.escapedPattern(for: String(rest))
        return try NSRegularExpression(pattern: pattern)
    }

    /// Whether `line` contains a match.
    public func matches(_ line: String, values: [String: String]) throws -> Bool {
        let regex = try pattern(values: values)
        return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    private static let placeholders: [String: String] = [
        "any": ".*?",
        "n": "[0-9]+",
        "port": "[0-9]{1,5}",
        "time": "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6,9}",
    ]
}

/// Checks that expected lines appear in `output` in order (each one after the previous match).
/// Returns nil when they all do, or the index of the first expected line that was not found.
public func firstMissingLine(_ expected: [ExpectedLine], in output: [String],
                             values: [String: String]) throws -> Int? {
    var position = 0
    for (index, line) in expected.enumerated() {
        let regex = try line.pattern(values: values)
        var found = false
        while position < output.count {
            let candidate = output[position]
            position += 1
            if regex.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) != nil {
                found = true
                break
            }
        }
        if !found { return index }
    }
    return nil
}
