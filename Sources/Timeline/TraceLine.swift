import SocketCore

/// A `--trace` line, `20:04:58.419600 connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>`, read back
/// into a `syscall` event.
///
/// The line holds only the local time of day, as `strace -tt` prints it; the reader supplies the
/// epoch time at which it read the line (`near`), and the stamp is placed on the day that puts it
/// closest to that moment. A line read just after midnight that says 23:59:59.9 is yesterday's.
public enum TraceLine {
    /// Parses a trace line; nil for any other line (a program's own stderr output).
    public static func event(_ line: String, near reference: EpochTime, label: String, pid: Int) -> TimelineEvent? {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let time = epochTime(timeOfDay: parts[0], near: reference) else { return nil }
        var text = Substring(parts[1])
        var duration = 0.0
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<"),
           let seconds = Double(text[text.index(after: open)..<text.index(before: text.endIndex)]) {
            duration = seconds
            text = text[..<open]
            while text.last == " " { text = text.dropLast() }
        }
        guard let paren = text.firstIndex(of: "("), paren > text.startIndex,
              text[..<paren].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return .syscall(time: time, duration: duration, label: label, pid: pid,
                        call: String(text[..<paren]), text: String(text))
    }

    /// `HH:MM:SS.uuuuuu` in local time → the epoch time nearest `reference` with that time of day.
    public static func epochTime(timeOfDay: Substring, near reference: EpochTime) -> EpochTime? {
        let bytes = Array(timeOfDay.utf8)
        guard bytes.count >= 9, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: ":"),
              let hours = Int64(String(timeOfDay.prefix(2))), let minutes = Int64(String(timeOfDay.dropFirst(3).prefix(2))),
              hours < 24, minutes < 60,
              let rest = EpochTime(parsing: timeOfDay.dropFirst(6)), rest.microseconds >= 0, rest.microseconds < 61_000_000
        else { return nil }
        let wanted = (hours * 3600 + minutes * 60) * 1_000_000 + rest.microseconds
        // The reference's own local time of day tells which local midnight precedes it.
        let referencePrefix = Clock.timeOfDayPrefix(seconds: reference.seconds)
        let h = Int64(referencePrefix.prefix(2)) ?? 0
        let m = Int64(referencePrefix.dropFirst(3).prefix(2)) ?? 0
        let s = Int64(referencePrefix.dropFirst(6).prefix(2)) ?? 0
        let sinceMidnight = (h * 3600 + m * 60 + s) * 1_000_000 + reference.fraction
        let midnight = reference.microseconds - sinceMidnight
        let day: Int64 = 86_400_000_000
        var best = midnight + wanted
        for candidate in [best - day, best + day] where abs(candidate - reference.microseconds) < abs(best - reference.microseconds) {
            best = candidate
        }
        return EpochTime(microseconds: best)
    }
}
