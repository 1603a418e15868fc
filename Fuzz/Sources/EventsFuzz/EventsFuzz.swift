import FuzzSupport
import Timeline

/// `events`: the `.events.jsonl` reader (EventsFile.parse, TimelineEvent(jsonLine:), JSONReader).
/// Every line is either an event or a rejection; an event read back from what it writes is the
/// same event; a JSON value re-encoded parses to the same value.
func check(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    let contents = EventsFile.parse(text)

    // Lines end at the byte 0x0A (a String's "\r\n" is one Character, not a "\n").
    let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
    let blank = lines.filter { line in
        let trimmed = line.last == 0x0D ? line.dropLast() : line
        return trimmed.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }.count
    invariant(contents.events.count + contents.rejected.count == lines.count - blank,
              "events + rejected lines != non-blank lines")
    var previous = 0
    for rejection in contents.rejected {
        invariant(rejection.line > previous && rejection.line <= lines.count, "rejected line number out of order or range")
        invariant(!rejection.reason.isEmpty, "a rejection without a reason")
        previous = rejection.line
    }
    for event in contents.events {
        let line = event.jsonLine
        invariant(!line.contains("\n"), "an event's JSON line holds a newline")
        guard let again = try? TimelineEvent(jsonLine: line) else {
            invariant(false, "an event's own JSON line does not parse: \(line)")
            return
        }
        invariant(again == event, "re-parsed event differs: \(line)")
        invariant(again.jsonLine == line, "re-encoding is not stable: \(line)")
    }
    // The file written from the events reads back as the same events, in time order.
    let rendered = EventsFile.parse(EventsFile.render(contents.events))
    invariant(rendered.rejected.isEmpty && rendered.events.count == contents.events.count,
              "a rendered sidecar does not read back whole")
    invariant(zip(rendered.events, rendered.events.dropFirst()).allSatisfy { $0.time <= $1.time },
              "a rendered sidecar is not in time order")

    // The JSON reader on the whole text, as one value.
    if let value = try? JSONReader.parse(text) {
        let json = value.json
        guard let again = try? JSONReader.parse(json) else {
            invariant(false, "a value's own JSON does not parse: \(json)")
            return
        }
        invariant(again == value, "re-parsed JSON value differs: \(json)")
    } else {
        do { _ = try JSONReader.parse(text) } catch {
            invariant(error.offset >= 0 && error.offset <= text.utf8.count, "failure offset outside the text")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("EventsFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
