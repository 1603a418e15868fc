/// Cuts a program's writes to stdout and stderr into lines, as a terminal shows them: a write may
/// hold several lines, or half of one (the rest comes in the next write).
///
/// One buffer per process and stream. A line longer than `lineLimit` is cut there (nothing held
/// grows without bound); what is left when the process exits is flushed as a last line.
public struct OutputLines: Sendable {
    public static let lineLimit = 4096
    private var pending: [String: [UInt8]] = [:]

    public init() {}

    /// Adds a write's bytes; returns the lines it completed, without their newline.
    public mutating func add(_ bytes: [UInt8], key: String) -> [String] {
        var buffer = pending[key] ?? []
        var lines: [String] = []
        for byte in bytes {
            if byte == 0x0A {
                lines.append(Self.text(buffer))
                buffer.removeAll(keepingCapacity: true)
            } else {
                buffer.append(byte)
                if buffer.count >= Self.lineLimit {
                    lines.append(Self.text(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }
        pending[key] = buffer.isEmpty ? nil : buffer
        return lines
    }

    /// The unfinished lines whose key starts with `prefix` (a process that exited), taken out.
    public mutating func flush(prefix: String) -> [(key: String, line: String)] {
        let keys = pending.keys.filter { $0.hasPrefix(prefix) }.sorted()
        return keys.compactMap { key in pending.removeValue(forKey: key).map { (key, Self.text($0)) } }
    }

    /// Bytes as a line of text: invalid UTF-8 is replaced, a trailing CR dropped.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.last == 0x0D ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }
}
