/// Fits a line of output to a projector's width without losing a character: cut at the last
/// space that fits, the rest on lines that start with a hanging indent; a run with no space to
/// cut at is split where the width ends. Columns are counted as a terminal shows them: a UTF-8
/// character (`→`) is one column, and colour codes (`ESC [ ... m`) take none.
public struct LineWrapper: Sendable {
    public let width: Int
    public let indent: Int

    public init(width: Int, indent: Int = 4) {
        self.width = max(width, indent + 10)
        self.indent = indent
    }

    /// The columns `line` takes on a terminal.
    public static func columns(_ line: some Collection<UInt8>) -> Int {
        var columns = 0
        var inEscape = false
        for byte in line {
            if inEscape {
                if (0x40...0x7E).contains(byte) && byte != 0x5B { inEscape = false }   // the final byte; not the "["
            } else if byte == 0x1B {
                inEscape = true
            } else if byte & 0xC0 != 0x80 {   // not a UTF-8 continuation byte
                columns += 1
            }
        }
        return columns
    }

    /// The line's bytes, with a newline and the indent inserted where it must be cut (no final
    /// newline). A line that fits comes back unchanged.
    public func wrap(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        guard Self.columns(line) > width else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(line.count + line.count / max(width - indent, 1) * (indent + 1) + 8)
        var column = 0
        var lineBegin = 0          // where the current output line starts in `out`
        var lastSpace: Int?        // in `out`, a space after the indent where a cut can go
        var inEscape = false
        for byte in line {
            if inEscape {
                out.append(byte)
                if (0x40...0x7E).contains(byte) && byte != 0x5B { inEscape = false }
                continue
            }
            if byte == 0x1B { inEscape = true; out.append(byte); continue }
            let isContinuation = byte & 0xC0 == 0x80
            if !isContinuation && column == width {
                // This character does not fit: cut at the last space, or here.
                let pad = [UInt8](repeating: 0x20, count: indent)
                if let space = lastSpace {
                    let tail = Array(out[(space + 1)...])
                    out.removeSubrange(space...)
                    while out.last == 0x20 && out.count > lineBegin { out.removeLast() }
                    out.append(0x0A)
                    lineBegin = out.count
                    out += pad
                    out += tail
                    column = indent + Self.columns(tail)
                } else {
                    out.append(0x0A)
                    lineBegin = out.count
                    out += pad
                    column = indent
                }
                lastSpace = nil
            }
            if byte == 0x20 && column > indent && out.count > lineBegin { lastSpace = out.count }
            out.append(byte)
            if !isContinuation { column += 1 }
        }
        return out
    }
}
