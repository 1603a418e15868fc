/// A `--trace` line read back: `20:04:58.419600 connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>`.
///
/// The inverse of `Trace.line`, for a reader of a tool's stderr (the lesson runner, a test) that
/// wants the span: when the call started, on the epoch clock, and how long it took.
///
/// Epoch time from a time of day: the line carries `HH:MM:SS.uuuuuu` (what `strace -tt` users
/// read), and `start(readAt:)` turns it into epoch time with `Clock.epoch(timeOfDay:near:)`,
/// taking the day from when the line was read. A line is written as soon as its call returns,
/// so `read time - duration` is within moments of the stamp: right across midnight.
public struct TraceLine: Sendable, Equatable {
    /// `HH:MM:SS.uuuuuu`, the call's start in local time.
    public var timeOfDay: Substring
    /// `connect(fd 3, 127.0.0.1:38633) -> 0`: the call, its arguments and its result.
    public var text: Substring
    /// `connect`: the call's name.
    public var call: Substring
    /// Seconds, from the `<0.000312>` suffix.
    public var duration: Double

    /// Nil for a line that is not a trace line (a tool's error message, a packet line).
    public init?(_ line: Substring) {
        guard let space = line.firstIndex(of: " ") else { return nil }
        let stamp = line[..<space]
        let rest = line[line.index(after: space)...]
        guard stamp.count >= 15, stamp.dropFirst(2).first == ":", rest.last == ">",
              let open = rest.lastIndex(of: "<"), open > rest.startIndex,
              rest[rest.index(before: open)] == " ",
              let duration = Double(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]),
              let paren = rest.firstIndex(of: "("), paren > rest.startIndex else { return nil }
        let name = rest[..<paren]
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        timeOfDay = stamp
        text = rest[..<rest.index(before: open)]
        call = name
        self.duration = duration
    }

    /// The call's start on the epoch clock, for a line read (or its read noted) at `readAt`.
    /// Nil when the stamp is not a valid time of day.
    public func start(readAt: EpochTime) -> EpochTime? {
        Clock.epoch(timeOfDay: timeOfDay, near: readAt.adding(seconds: -duration))
    }
}
