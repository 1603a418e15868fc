import SocketCore

/// A `--trace` line, `20:04:58.419600 connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>`, read back
/// into a `syscall` event.
///
/// The line holds only the local time of day, as `strace -tt` prints it; the reader supplies the
/// epoch time at which it read the line (`near`). The line is written as soon as the call returns,
/// so its start was `duration` before that: the stamp is placed on the day that puts it closest to
/// `near - duration`. A line read just after midnight that says 23:59:59.9 is yesterday's, and so
/// is an accept() stamped 09:00 that waited 14 hours before a line was read at 23:00 the next day.
public enum TraceLine {
    /// Parses a trace line; nil for any other line (a program's own stderr output).
    public static func event(_ line: String, near reference: EpochTime, label: String, pid: Int) -> TimelineEvent? {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        var text = Substring(parts[1])
        var duration = 0.0
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<"),
           let seconds = Double(text[text.index(after: open)..<text.index(before: text.endIndex)]) {
            duration = seconds
            text = text[..<open]
            while text.last == " " { text = text.dropLast() }
        }
        guard let paren = text.firstIndex(of: "("), paren > text.startIndex,
              text[..<paren].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
              let time = epochTime(timeOfDay: parts[0], near: reference.adding(seconds: -duration)) else { return nil }
        return .syscall(time: time, duration: duration, label: label, pid: pid,
                        call: String(text[..<paren]), text: String(text))
    }

    /// `HH:MM:SS.uuuuuu` in local time → the epoch time nearest `reference` with that time of day
    /// (SocketCore's `Clock.epoch`, the inverse of the formatter the stamps were written with).
    public static func epochTime(timeOfDay: Substring, near reference: EpochTime) -> EpochTime? {
        Clock.epoch(timeOfDay: timeOfDay, near: reference)
    }
}
