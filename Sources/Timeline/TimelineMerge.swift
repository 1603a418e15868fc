import SocketCore

/// One line of a merged timeline: an event, or one end of a system call's span.
public struct TimelineEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A packet, a line of output, a kernel event, or a call that contains nothing else.
        case point
        /// A call that contains other events, at its start: `connect(fd 3, 127.0.0.1:38633) ...`
        case callStart
        /// The same call at its return: `... connect() -> 0`
        case callReturn
    }

    public var kind: Kind
    /// When this line happened: the event's time, or the call's end for `callReturn`.
    public var time: EpochTime
    /// Index of the event in the merge's input.
    public var event: Int
}

/// Puts events from many sources on one timeline, as strace draws an interrupted call.
///
/// A call whose span `[start, start + duration]` contains another event is shown as two lines, its
/// start and its return, so the SYN, SYN-ACK and ACK appear *inside* `connect()`. Order is by
/// epoch time; at the same microsecond a call's start comes before a point, and a call's return
/// after it, so an event stamped inside a span is drawn inside it. Equal entries keep input order.
public enum TimelineMerge {
    public static func merge(_ events: [TimelineEvent]) -> [TimelineEntry] {
        let starts = events.indices.sorted { (events[$0].time, $0) < (events[$1].time, $1) }
        var entries: [TimelineEntry] = []
        entries.reserveCapacity(events.count + 8)
        for index in events.indices {
            let event = events[index]
            guard event.duration != nil, containsOther(index, in: events, sortedStarts: starts) else {
                entries.append(TimelineEntry(kind: .point, time: event.time, event: index))
                continue
            }
            entries.append(TimelineEntry(kind: .callStart, time: event.time, event: index))
            entries.append(TimelineEntry(kind: .callReturn, time: event.end, event: index))
        }
        return entries.enumerated().sorted { a, b in
            (a.element.time, rank(a.element.kind), a.offset) < (b.element.time, rank(b.element.kind), b.offset)
        }.map(\.element)
    }

    /// Whether any other event's time falls within the call's span, ends included.
    static func containsOther(_ call: Int, in events: [TimelineEvent], sortedStarts: [Int]) -> Bool {
        let start = events[call].time, end = events[call].end
        var low = 0, high = sortedStarts.count
        while low < high {   // first event stamped at or after the call's start
            let middle = (low + high) / 2
            if events[sortedStarts[middle]].time < start { low = middle + 1 } else { high = middle }
        }
        for position in low..<sortedStarts.count {
            let other = sortedStarts[position]
            if events[other].time > end { return false }
            if other != call { return true }
        }
        return false
    }

    private static func rank(_ kind: TimelineEntry.Kind) -> Int {
        switch kind {
        case .callStart: return 0
        case .point: return 1
        case .callReturn: return 2
        }
    }

    // MARK: - The two halves of a call's text

    /// `connect(fd 3, 127.0.0.1:38633) -> 0` → `connect(fd 3, 127.0.0.1:38633) ...`
    public static func startText(_ text: String) -> String {
        guard let close = callEnd(text) else { return text + " ..." }
        return String(text[..<close]) + " ..."
    }

    /// `connect(fd 3, 127.0.0.1:38633) -> 0` → `... connect() -> 0`
    public static func returnText(_ text: String) -> String {
        guard let open = text.firstIndex(of: "("), let close = callEnd(text) else { return "... " + text }
        return "... " + text[..<open] + "()" + text[close...]
    }

    /// The index just past the `)` that closes the call's argument list, skipping parentheses
    /// inside quoted strings (`write(fd 1, "a) b\n", 5)`).
    static func callEnd(_ text: String) -> String.Index? {
        var depth = 0, quoted = false, escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if quoted {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { quoted = false }
            } else if character == "\"" {
                quoted = true
            } else if character == "(" {
                depth += 1
            } else if character == ")" {
                depth -= 1
                if depth == 0 { return text.index(after: index) }
            }
            index = text.index(after: index)
        }
        return nil
    }
}
