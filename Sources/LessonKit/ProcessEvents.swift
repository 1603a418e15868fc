import SocketCore
import Timeline

/// One process's output read as timeline events, each stamped where it happened.
///
/// - A `--trace` line (`20:04:58.419600 connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>`) becomes
///   a `syscall` span: it started at the stamp and lasted the `<...>`.
/// - Any other line that starts with a time of day (a packet from handshake-watch) becomes a point
///   at that time (`type` `line`, its text after the stamp).
/// - A stdout line (`server Connected by ...`) takes the stamp of the traced write(2) that wrote
///   it (`write(fd 1, "server Connected by ...\n", 36) -> 36`), and that write is not shown
///   twice. stdout and the trace are two pipes, so arrival order says nothing; the stamps do.
///   A stdout line no traced write accounts for has no stamp, and is left out.
enum ProcessEvents {
    static func events(label: String, pid: Int, lines: [ChildProcess.Line]) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        var writes: [TimelineEvent] = []
        var unstamped: [String] = []
        var traced = TracedLines()
        for line in lines {
            if let call = traced.call(line.text, near: line.time) {
                if let call = call { events.append(call) }
                continue
            }
            if let event = stamped(line.text, near: line.time, label: label, pid: pid) {
                if StdoutWrite.lines(of: event) != nil { writes.append(event) } else { events.append(event) }
            } else if line.stream == .stdout {
                unstamped.append(line.text)
            }
        }
        return events + outputs(of: writes, among: unstamped, label: label)
    }

    /// The lines of a replay (`handshake-watch -r X.pcap`), from a recording made around
    /// `reference`. Each stamp is placed nearest the one before it, so the recording keeps its own
    /// day and crosses midnight in one piece. A line that shows one of the `recorded` events
    /// (handshake-watch interleaves a capture's sidecar with its packets) is left out: the event
    /// itself is on the timeline.
    static func replayed(label: String, lines: [ChildProcess.Line], recordedAround reference: EpochTime,
                         besides recorded: [TimelineEvent]) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        var previous = reference
        // A replay prints a call that spans other lines in two halves (`connect(...) ...` at its
        // start, `... connect() -> 0` at its return): both halves show the recorded event too.
        var recordedTexts: [EpochTime: [String]] = [:]
        for event in recorded {
            guard let text = event.string("text") ?? event.linkDropText else { continue }
            recordedTexts[event.time, default: []].append(text)
            if event.type == "syscall" {
                recordedTexts[event.time, default: []].append(TimelineMerge.startText(text))
                recordedTexts[event.end, default: []].append(TimelineMerge.returnText(text))
            }
        }
        for line in lines {
            guard let event = stamped(line.text, near: previous, label: label, pid: 0) else { continue }
            previous = event.time
            let text = event.string("text") ?? ""
            if recordedTexts[event.time]?.contains(where: { !$0.isEmpty && text.contains($0) }) == true { continue }
            events.append(event)
        }
        return events
    }

    /// The lines a replay printed for one capture: those after handshake-watch's
    /// `reading from file CAPTURE, ...` up to the next such line. All lines when the replay never
    /// says which file it reads. That line comes on stderr and the packets on stdout, two pipes
    /// read apart, so this is a best guess, for a replay of several captures with no recorded
    /// events to tell their runs apart by time.
    static func lines(of capture: String, in lines: [ChildProcess.Line]) -> [ChildProcess.Line] {
        let marker = "reading from file "
        guard lines.contains(where: { $0.text.hasPrefix(marker) }) else { return lines }
        var inside = false
        return lines.filter { line in
            if line.text.hasPrefix(marker) {
                inside = line.text.dropFirst(marker.count).hasPrefix(capture + ",")
                return false
            }
            return inside
        }
    }

    /// A line starting with a time of day, as an event; nil for any other line.
    static func stamped(_ text: String, near reference: EpochTime, label: String, pid: Int) -> TimelineEvent? {
        if let call = Timeline.TraceLine.event(text, near: reference, label: label, pid: pid) { return call }
        let parts = text.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].count >= 15,
              let time = Timeline.TraceLine.epochTime(timeOfDay: parts[0], near: reference) else { return nil }
        return TimelineEvent(type: "line", time: time, fields: [("label", .string(label)), ("text", .string(String(parts[1])))])
    }

    /// Each traced write to stdout, matched in order to the stdout lines it wrote: those lines
    /// become `output` events at the write's start. A stdout line between them that no write
    /// wrote (an `echo` in the same script) is skipped over; a write that matches nothing stays
    /// a system call.
    static func outputs(of writes: [TimelineEvent], among stdout: [String], label: String) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        var position = 0
        for write in writes {
            let written = StdoutWrite.lines(of: write) ?? []
            var matched: [TimelineEvent] = []
            var search = position
            for piece in written {
                guard let found = stdout[search...].firstIndex(where: { piece.matches($0) }) else { break }
                matched.append(.output(time: write.time, label: label, stream: "stdout", text: stdout[found]))
                search = found + 1
            }
            if matched.count == written.count && !matched.isEmpty {
                events += matched
                position = search
            } else {
                events.append(write)
            }
        }
        return events
    }
}

/// The lines a traced `write(fd 1, "...", N)` put on stdout, read back from strace's quoting.
enum StdoutWrite {
    /// One line of the write: its whole text, or the start of it when strace cut the string.
    struct Piece: Equatable {
        var text: String
        var isCut: Bool

        func matches(_ line: String) -> Bool { isCut ? line.hasPrefix(text) : line == text }
    }

    /// The lines of a `write` to fd 1, or nil for any other call.
    static func lines(of event: TimelineEvent) -> [Piece]? {
        guard event.type == "syscall", event.string("call") == "write", let text = event.string("text"),
              text.hasPrefix("write(fd 1, \"") else { return nil }
        let quoted = text.dropFirst("write(fd 1, ".count)
        guard let (bytes, cut) = unquote(quoted) else { return nil }
        var pieces = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { Piece(text: String(decoding: $0, as: UTF8.self), isCut: false) }
        if pieces.last?.text.isEmpty == true && !cut {
            pieces.removeLast()
        } else if !pieces.isEmpty {
            pieces[pieces.count - 1].isCut = true
        }
        return pieces
    }

    /// `"a\tb\n"...` → the bytes, and whether strace cut the string (`...` after the quote).
    /// Escapes as strace writes them: `\" \\ \t \n \v \f \r` and octal `\NNN`.
    static func unquote(_ text: Substring) -> ([UInt8], Bool)? {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        guard input.popFirst() == UInt8(ascii: "\"") else { return nil }
        let simple: [UInt8: UInt8] = [UInt8(ascii: "t"): 0x09, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "v"): 0x0B,
                                      UInt8(ascii: "f"): 0x0C, UInt8(ascii: "r"): 0x0D]
        while let byte = input.popFirst() {
            switch byte {
            case UInt8(ascii: "\""):
                return (bytes, input.starts(with: "...".utf8))
            case UInt8(ascii: "\\"):
                guard let next = input.popFirst() else { return nil }
                if let value = simple[next] {
                    bytes.append(value)
                } else if (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(next) {
                    var value = Int(next - UInt8(ascii: "0"))
                    for _ in 0..<2 {
                        guard let digit = input.first, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { break }
                        value = value * 8 + Int(digit - UInt8(ascii: "0"))
                        input = input.dropFirst()
                    }
                    bytes.append(UInt8(truncatingIfNeeded: value))
                } else {
                    bytes.append(next)
                }
            default:
                bytes.append(byte)
            }
        }
        return nil
    }
}

/// The calls `handshake-watch -- COMMAND` prints (or `run trace` in a lesson), read back as the
/// spans they are: `20:04:58.419600 [python3 4242] connect(fd 3, 127.0.0.1:5000) -> 0 <0.000312>`
/// is a call of the program labelled `python3 4242`; a call printed in two halves,
/// `connect(fd 3, ...) ...` at its start and `... connect() -> 0 <0.000312>` at its return, is
/// put back together (its start's stamp, the return's duration), so the lesson's timeline draws
/// it as any other call.
struct TracedLines {
    /// Calls whose start was seen, by program label and call name.
    private var started: [String: (time: EpochTime, text: String)] = [:]

    /// nil: not a traced call's line. `.some(nil)`: the first half of a call (kept for its end).
    mutating func call(_ line: String, near reference: EpochTime) -> TimelineEvent?? {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[1].hasPrefix("["), let close = parts[1].firstIndex(of: "]") else { return nil }
        let label = String(parts[1][parts[1].index(after: parts[1].startIndex)..<close])
        let rest = parts[1][parts[1].index(after: close)...].drop { $0 == " " }
        // `python3 4242` or `python3 4242/4250`: a name, then the pid (and tid).
        guard let pidText = label.split(separator: " ").last,
              let pid = Int(pidText.split(separator: "/").first ?? "") else { return nil }
        let stamp = parts[0]
        if rest.hasSuffix(" ..."), let open = rest.firstIndex(of: "("), !rest.hasPrefix("...") {
            guard let time = Timeline.TraceLine.epochTime(timeOfDay: stamp, near: reference) else { return nil }
            started[label + " " + rest[..<open]] = (time, String(rest.dropLast(4)))
            return .some(nil)
        }
        if rest.hasPrefix("... "), let open = rest.firstIndex(of: "(") {
            let name = rest.dropFirst(4)[..<open]
            guard let start = started.removeValue(forKey: label + " " + name),
                  let arrow = rest.range(of: ") -> ") else { return nil }
            var result = rest[arrow.upperBound...]
            var duration = 0.0
            if result.hasSuffix(">"), let lt = result.lastIndex(of: "<"),
               let seconds = Double(result[result.index(after: lt)..<result.index(before: result.endIndex)]) {
                duration = seconds
                result = result[..<lt]
                while result.last == " " { result = result.dropLast() }
            }
            return .some(.syscall(time: start.time, duration: duration, label: label, pid: pid,
                                  call: String(name), text: start.text + " -> " + result))
        }
        guard let event = Timeline.TraceLine.event(String(stamp) + " " + rest, near: reference, label: label, pid: pid) else { return nil }
        return .some(event)
    }
}
