import Foundation
import SocketCore

/// The terminal the lesson is shown on.
public enum Terminal {
    /// Columns to wrap prose to: the terminal's width (ioctl TIOCGWINSZ on stdout), else
    /// `$COLUMNS` (set by shells, kept when output goes through a pipe), else 80.
    public static func width() -> Int {
        Syscall.terminalColumns(STDOUT_FILENO) ?? Syscall.columnsVariable() ?? 80
    }
}

/// Word wrapping for prose on a terminal.
enum Wrapping {
    /// Joins the lines of each paragraph and wraps it to `width` columns. Lines that are not
    /// running text keep their own line: code blocks, headings, table rows, list items start a
    /// new line (their continuation lines are indented like the item's text).
    static func wrap(_ markdown: String, width: Int) -> [String] {
        var output: [String] = []
        var paragraph: [String] = []
        var indent = ""
        var inCode = false
        func flush() {
            guard !paragraph.isEmpty else { return }
            output += wrapParagraph(paragraph.joined(separator: " "), width: width, indent: indent)
            paragraph = []
            indent = ""
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmed(" \t")
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flush()
                inCode.toggle()
                output.append(line)
            } else if inCode || trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("|") || line.hasPrefix("    ") {
                flush()
                output.append(line)
            } else if let marker = listMarker(line) {
                flush()
                paragraph = [line]
                indent = String(repeating: " ", count: marker)
            } else {
                paragraph.append(paragraph.isEmpty ? line : trimmed)
            }
        }
        flush()
        return output
    }

    /// The width of a list item's marker with its indentation (`- `, `* `, `12. `), if the line is one.
    private static func listMarker(_ line: String) -> Int? {
        let spaces = line.prefix { $0 == " " }.count
        let rest = line.dropFirst(spaces)
        if rest.hasPrefix("- ") || rest.hasPrefix("* ") || rest.hasPrefix("+ ") { return spaces + 2 }
        let digits = rest.prefix { $0.isNumber }.count
        if digits > 0 && rest.dropFirst(digits).hasPrefix(". ") { return spaces + digits + 2 }
        return nil
    }

    /// Greedy wrapping by words; a word longer than the width (a URL) gets a line of its own.
    private static func wrapParagraph(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if current.isEmpty {
                current = (lines.isEmpty ? String(text.prefix { $0 == " " }) : indent) + word
            } else if visibleCount(current) + 1 + visibleCount(String(word)) <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = indent + word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// A line of program output made to fit `width` columns without losing a character: cut
    /// at the last space that fits (the spaces inside the line, a table's columns, kept as
    /// they are), the rest on lines indented by `indent` columns; a run with no space to cut
    /// at (a long path) is split where the width ends. Never cut short: nothing is lost.
    static func hanging(_ line: String, width: Int, indent: Int) -> [String] {
        guard visibleCount(line) > width, width > indent + 10 else { return [line] }
        var lines: [String] = []
        var rest = Substring(line)
        var room = width
        let pad = String(repeating: " ", count: indent)
        while visibleCount(String(rest)) > room {
            // The widest prefix that fits, then back to its last space.
            var fit = rest.startIndex
            var columns = 0
            var inEscape = false
            var lastSpace: Substring.Index?
            var index = rest.startIndex
            while index < rest.endIndex {
                let scalar = rest[index]
                if inEscape { if scalar == "m" { inEscape = false } }
                else if scalar == "\u{1B}" { inEscape = true }
                else {
                    if columns == room { break }
                    columns += 1
                    if scalar == " " && columns > indent { lastSpace = index }   // never inside the label
                }
                index = rest.index(after: index)
                fit = index
            }
            let cut = lastSpace.map { rest.index(after: $0) } ?? fit
            lines.append((lines.isEmpty ? "" : pad) + String(rest[..<cut]).trimmingTrailingSpaces())
            rest = rest[cut...].drop { $0 == " " }
            room = width - indent
        }
        if !rest.isEmpty { lines.append((lines.isEmpty ? "" : pad) + rest) }
        return lines
    }

    /// Characters a terminal shows: ANSI colour sequences (ESC [ ... m) take no column.
    static func visibleCount(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

extension Terminal {
    /// The text without its ANSI control sequences (ESC [ parameters, then a final byte in @...~):
    /// what an expectation matches when a tool coloured its output for the screen.
    public static func withoutEscapes(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        var state = 0   // 0 text, 1 after ESC, 2 inside ESC [ ...
        for scalar in text.unicodeScalars {
            switch state {
            case 1: state = scalar == "[" ? 2 : 0
            case 2: if (0x40...0x7E).contains(scalar.value) { state = 0 }
            default:
                if scalar == "\u{1B}" { state = 1 } else { kept.append(scalar) }
            }
        }
        return String(kept)
    }

    /// A program's line made safe for the teacher's terminal: every C0 and C1 control character
    /// and DEL becomes `\xNN` (as tcpdump's `-A` prints a dot), so output cannot retitle the
    /// window, clear the screen or write the clipboard (OSC 52). Only colour codes (SGR,
    /// `ESC [ digits ; ... m`) survive, since our own tools colour their lines.
    public static func escapingControls(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\u{1B}", index + 1 < scalars.count, scalars[index + 1] == "[" {
                var end = index + 2
                while end < scalars.count, scalars[end] == ";" || ("0"..."9").contains(scalars[end]) { end += 1 }
                if end < scalars.count, scalars[end] == "m" {
                    out.append(contentsOf: scalars[index...end])
                    index = end + 1
                    continue
                }
            }
            let value = scalar.value
            if value < 0x20 && value != 0x09 || (0x7F...0x9F).contains(value) {
                let hex = String(value, radix: 16)
                out.append(contentsOf: ("\\x" + (hex.count == 1 ? "0" + hex : hex)).unicodeScalars)
            } else {
                out.append(scalar)
            }
            index += 1
        }
        return String(out)
    }

    /// `handshake-watch` in a lesson's script, given `--color always`: the runner shows its lines
    /// on a terminal in colour (and matches them without the codes). Only the command word is
    /// touched (at the start, or after a space, `;`, `|`, `&` or `(`), never a path or a longer word.
    public static func colouringHandshakeWatch(_ script: String) -> String {
        script.replacingOccurrences(of: #"(^|[\s;|&(])handshake-watch(?=\s|$)"#,
                                    with: "$1handshake-watch --color always",
                                    options: .regularExpression)
    }
}
