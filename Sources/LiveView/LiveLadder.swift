import Timeline

/// The ladder of the events a hub keeps, built as they arrive (each event parsed once, not once
/// per request), and the plan of its SVG document, made once per new event and shared by every
/// request that comes before the next one.
///
/// The ring forgets its oldest events; the ladder cannot take an event back out. So it covers
/// the events from `from` on, and is built anew from the ring once the ring has forgotten more
/// than a quarter of its capacity of them: the diagram then draws at most that many events the
/// ring no longer holds, and each rebuild is paid for by that many new events.
struct LiveLadder {
    private var builder = LadderBuilder()
    /// The id of the first event in the ladder.
    private(set) var from = 1
    /// The id of the last event in the ladder.
    private(set) var through = 0
    /// The plan of the document of every connection, while no event has come since.
    private var planned: SVGLadderDocument?

    /// Whether the ladder holds so many forgotten events (ids before `firstKept`) that it must be
    /// built anew from what the ring keeps.
    func isStale(firstKept: Int, capacity: Int) -> Bool {
        firstKept - from > max(1, capacity / 4)
    }

    /// Starts again with nothing, at `id`: the ring's oldest event.
    mutating func restart(at id: Int) {
        self = LiveLadder()
        from = id
        through = id - 1
    }

    /// Adds an event (its JSON line). A line the ladder cannot read, or does not draw, only
    /// moves `through` on.
    mutating func add(id: Int, line: [UInt8]) {
        through = id
        planned = nil
        // A line as a file reader would take it: CR LF endings and blank lines are no events.
        for part in String(decoding: line, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = part.hasSuffix("\r") ? part.dropLast() : part
            if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if let event = try? TimelineEvent(jsonLine: trimmed), let drawn = LadderEvent(event) { builder.add(drawn) }
        }
    }

    /// The plan of the document of every connection, or only `connection`'s.
    mutating func document(connection: Int?) -> SVGLadderDocument {
        if connection == nil, let planned { return planned }
        let document = SVGLadderDocument(builder.ladder(), connection: connection)
        if connection == nil { planned = document }
        return document
    }
}
