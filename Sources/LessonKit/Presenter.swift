import Foundation
import SocketCore

/// How a lesson appears on the teacher's terminal: headings, the explanation, each command as
/// `$ command`, and every line a process prints behind its label (`[server] ...`), coloured on a
/// terminal. In `lesson check` it is silent unless asked to be verbose.
public struct Presenter: Sendable {
    /// Whether anything is shown at all.
    public var isShowing: Bool
    /// ANSI colours: only on a terminal, and never with NO_COLOR set (no-color.org).
    public var useColor: Bool
    /// Columns to wrap prose to (`--width`, else `Terminal.width()`); nil: lines as written.
    public var width: Int?

    public init(isShowing: Bool, useColor: Bool? = nil, width: Int? = nil) {
        self.isShowing = isShowing
        self.useColor = useColor ?? (Syscall.isTerminal(1) && getenv("NO_COLOR") == nil)
        self.width = width
    }

    public func heading(_ text: String) {
        say(paint("\n== \(text) ==", "1"))
    }

    public func stepHeading(_ text: String) {
        say(paint("\n-- \(text) --", "1;36"))
    }

    public func prose(_ text: String) {
        guard !text.isEmpty else { return }
        say(render(text))
    }

    /// The little Markdown lessons use, for a terminal: `## Heading` and `**bold**` in bold,
    /// `` `code` `` in cyan (backticks kept without colour, since they mark code),
    /// `[text](url)` as `text (url)`. Code blocks are shown as they are.
    /// With a `width`, paragraphs are joined and wrapped to it first.
    func render(_ markdown: String) -> String {
        var inCode = false
        var lines: [String] = []
        let source = width.map { Wrapping.wrap(markdown, width: $0) }
            ?? markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in source {
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                inCode.toggle()
                lines.append(line)
            } else {
                lines.append(inCode ? line : renderLine(line))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func renderLine(_ line: String) -> String {
        var text = line
        let rules: [(String, String)] = useColor
            ? [(#"^#+ (.*)$"#, "\u{1B}[1m$1\u{1B}[0m"),
               (#"\*\*([^*]+)\*\*"#, "\u{1B}[1m$1\u{1B}[0m"), (#"`([^`]+)`"#, "\u{1B}[36m$1\u{1B}[0m"),
               (#"\[([^\]]+)\]\(([^)]+)\)"#, "$1 ($2)")]
            : [(#"^#+ (.*)$"#, "$1"),
               (#"\*\*([^*]+)\*\*"#, "$1"), (#"\[([^\]]+)\]\(([^)]+)\)"#, "$1 ($2)")]
        for (pattern, template) in rules {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                  withTemplate: template)
        }
        return text
    }

    public func command(_ script: String, label: String, background: Bool) {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let prompt = index == 0 ? "$ " : "  "
            say(paint(prompt + line, "1") + (index == lines.count - 1 && background ? paint("   # in the background, as [\(label)]", "36") : ""))
        }
    }

    /// A remark of the runner's, in cyan: never dim (SGR 2), which a projector washes out.
    public func note(_ text: String) {
        say(paint("(\(text))", "36"))
    }

    /// An expectation that held, seen being checked: `✓ checked: ...`.
    public func checked(_ text: String) {
        say(paint("✓ checked: ", "32") + Terminal.escapingControls(text))
    }

    public func warning(_ text: String) {
        say(paint("! \(text)", "33"))
    }

    /// One line of a process's output, behind its label. stderr lines are dimmed a little less
    /// than notes so traces stay readable.
    public func output(_ line: String, label: String, stream: OutputStream) {
        let text = "[\(label)] " + Terminal.escapingControls(line)
        let lines = width.map { Wrapping.hanging(text, width: $0, indent: label.count + 3) } ?? [text]
        for (index, piece) in lines.enumerated() {
            // The label coloured on the first line; continuation lines are indented under the text.
            say(index == 0 ? paint("[\(label)]", colorCode(for: label)) + piece.dropFirst(label.count + 2) : piece)
        }
    }

    /// One line on the screen; longer than the width, it goes on under a 4-column indent.
    public func say(_ text: String) {
        guard isShowing else { return }
        guard let width else { return Console.line(text) }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            for piece in Wrapping.hanging(String(line), width: width, indent: 4) { Console.line(piece) }
        }
    }

    private func paint(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// The same label always gets the same colour.
    private func colorCode(for label: String) -> String {
        let palette = ["32", "35", "34", "33", "36", "31"]
        let sum = label.unicodeScalars.reduce(0) { $0 &+ Int($1.value) }
        return palette[sum % palette.count]
    }
}
