/// ```` ```expect order ````: events of the last merged timeline that must come in the order
/// written, across labels, in the spirit of packetdrill's scripts.
///
/// Each line names one event: `[label] text`, without the time, with the placeholders of
/// `ExpectedLine`. A call is two events, its start and its return, however it is shown:
///
///     [client] connect(fd {n}, 127.0.0.1:{port:server}) ...
///     [watch] #1 {any}[SYN] seq 0
///     [watch] #1 {any}[ACK] seq 1 ack 1 len 0
///     [client] ... connect() -> 0
///
/// A line names the *first* event it matches; `{2nd} `, `{3rd} `, ... `{last} ` in front of it
/// name another. Every named event must be there, each one after the one named before it.
/// Unlike a plain `expect`, which looks for each line after the previous one, a later match
/// never rescues an order that is wrong: the check fails, naming the two events.
public struct OrderExpectation: Sendable {
    /// One line of the block.
    public struct Event: Sendable, Equatable, CustomStringConvertible {
        public enum Occurrence: Sendable, Equatable {
            /// The Nth matching event, from 1.
            case nth(Int)
            case last
        }

        public var occurrence: Occurrence
        public var line: ExpectedLine

        /// The line as written, ordinal included.
        public var description: String {
            switch occurrence {
            case .nth(1): return line.text
            case .nth(let n): return "{\(Self.ordinal(n))} \(line.text)"
            case .last: return "{last} \(line.text)"
            }
        }

        /// Reads `{2nd} [server] accept(fd {n}) ...`; nil with a reason for a bad ordinal.
        init(_ text: String) throws(OrderSyntaxError) {
            occurrence = .nth(1)
            var rest = Substring(text)
            if rest.hasPrefix("{"), let close = rest.firstIndex(of: "}") {
                let word = rest[rest.index(after: rest.startIndex)..<close]
                let digits = word.prefix(while: \.isNumber)
                if word == "last" {
                    occurrence = .last
                    rest = rest[rest.index(after: close)...]
                } else if !digits.isEmpty, ["st", "nd", "rd", "th"].contains(String(word.dropFirst(digits.count))) {
                    guard let n = Int(digits), n >= 1, Self.ordinal(n) == word else {
                        throw OrderSyntaxError(message: "{\(word)}: write the ordinal as {1st}, {2nd}, {3rd}, {4th}, ...")
                    }
                    occurrence = .nth(n)
                    rest = rest[rest.index(after: close)...]
                }
            }
            let pattern = String(rest).trimmed(" \t")
            guard pattern.hasPrefix("[") else {
                throw OrderSyntaxError(message: "`\(text)`: each line of ```expect order starts with the [label] of its event")
            }
            line = ExpectedLine(pattern)
        }

        static func ordinal(_ n: Int) -> String {
            let suffix = (11...13).contains(n % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][n % 10] ?? "th"
            return "\(n)\(suffix)"
        }
    }

    public var events: [Event]
    /// Only checked when the timeline is live (`live`), or only when it shows a recording (`fallback`).
    public var only: Expectation.Source?
    /// Seconds the timeline waits for the named events of a command still running (default 10).
    public var timeout: Double = 10

    /// The block's lines (blank ones skipped); at least two.
    init(lines: [String], only: Expectation.Source?, timeout: Double) throws(OrderSyntaxError) {
        let written = lines.map { $0.trimmed(" \t") }.filter { !$0.isEmpty }
        guard written.count >= 2 else {
            throw OrderSyntaxError(message: "```expect order needs at least two lines: the events, in their order")
        }
        var events: [Event] = []
        for line in written { events.append(try Event(line)) }
        self.events = events
        self.only = only
        self.timeout = timeout
    }

    /// Where each named event is among `items` (nil when it is not there).
    func positions(in items: [MergedTimeline.Item], values: [String: String]) throws -> [Int?] {
        try events.map { event in
            let matching = try items.indices.filter { try event.line.matches(items[$0].text, values: values) }
            switch event.occurrence {
            case .last: return matching.last
            case .nth(let n): return n <= matching.count ? matching[n - 1] : nil
            }
        }
    }

    /// Nil when every event is there and in order; else what is wrong, naming the events.
    func failure(in items: [MergedTimeline.Item], values: [String: String]) throws -> String? {
        let found = try positions(in: items, values: values)
        if found.contains(where: { $0 == nil }) {
            var report = "timeline: expected these events, in this order (expect order):"
            for (event, position) in zip(events, found) {
                report += "\n  " + (position == nil ? "MISSING " : "found   ") + event.description
            }
            return report
        }
        for index in events.indices.dropLast() {
            let (earlier, later) = (found[index]!, found[index + 1]!)
            guard earlier >= later else { continue }
            let same = earlier == later
            return "timeline: expected \(events[index]) before \(events[index + 1]), but "
                + (same ? "both name the same event:\n  \(items[earlier].shown)"
                        : "it came after it:\n  \(items[later].shown)\n  \(items[earlier].shown)")
        }
        return nil
    }
}

/// Why an ```` ```expect order ```` block cannot be read.
struct OrderSyntaxError: Error { let message: String }
