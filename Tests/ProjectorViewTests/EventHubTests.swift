@testable import HTTPServerKit
@testable import LiveView
import Testing

/// The hub without a network: streams that are not attached to a socket keep what is pushed,
/// and the test reads it back.
@Suite("EventHub") struct EventHubTests {
    static func line(_ n: Int) -> [UInt8] { Array(#"{"type":"test","time":1.000000,"n":\#(n)}"#.utf8) }

    /// The SSE text pushed into a stream so far (taken: the next call returns only what is new).
    static func text(_ stream: ResponseStream) -> String {
        String(decoding: stream.takePending().bytes, as: UTF8.self)
    }

    /// The ids of the `id:` lines in SSE text.
    static func ids(_ text: String) -> [Int] {
        text.split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? Int($0.dropFirst(4)) : nil }
    }

    @Test("the ring keeps the last N events with consecutive ids, oldest first")
    func ring() {
        var ring = EventRing(capacity: 3)
        #expect(ring.events(after: 0)?.isEmpty == true)
        for n in 1...5 { #expect(ring.append(Self.line(n)) == n) }
        #expect(ring.firstId == 3 && ring.lastId == 5 && ring.count == 3)
        #expect(ring.all == [Self.line(3), Self.line(4), Self.line(5)])
        #expect(ring.events(after: 2)?.map(\.id) == [3, 4, 5])
        #expect(ring.events(after: 4)?.map(\.line) == [Self.line(5)])
        #expect(ring.events(after: 1) == nil, "event 2 was overwritten")
        #expect(ring.events(after: 6) == nil, "an id this ring never gave")
    }

    @Test("a new stream gets the backlog, then each event once, as id:/data: messages")
    func streamFromStart() {
        let hub = EventHub(capacity: 10, deliveryThread: false)
        hub.append(Self.line(1))
        hub.deliver()
        let stream = ResponseStream(bufferLimit: 1 << 20)
        #expect(hub.subscribe(stream, after: nil) == .streaming(backlog: 1))
        hub.append(Self.line(2))
        hub.deliver()
        let text = Self.text(stream)
        #expect(text == "retry: 500\n\n" + #"event: source\#ndata: {"source":"live"}\#n\#n"# + "id: 1\ndata: \(String(decoding: Self.line(1), as: UTF8.self))\n\n"
                + "id: 2\ndata: \(String(decoding: Self.line(2), as: UTF8.self))\n\n")
    }

    @Test("Last-Event-ID resumes after that id; every event exactly once across a drop")
    func resume() {
        let hub = EventHub(capacity: 100, deliveryThread: false)
        for n in 1...5 { hub.append(Self.line(n)) }
        hub.deliver()
        let first = ResponseStream(bufferLimit: 1 << 20)
        _ = hub.subscribe(first, after: 2)
        hub.append(Self.line(6))
        hub.deliver()
        let seen = Self.ids(Self.text(first))
        #expect(seen == [3, 4, 5, 6])
        hub.dropStreams()
        #expect(first.takePending().finished)
        hub.append(Self.line(7))   // while the browser reconnects
        hub.deliver()
        let second = ResponseStream(bufferLimit: 1 << 20)
        #expect(hub.subscribe(second, after: seen.last) == .streaming(backlog: 1))
        hub.append(Self.line(8))
        hub.deliver()
        #expect(seen + Self.ids(Self.text(second)) == Array(3...8))
    }

    @Test("an id older than the ring, or never given, gets event: reset and the stream ends")
    func reset() {
        let hub = EventHub(capacity: 3, deliveryThread: false)
        for n in 1...6 { hub.append(Self.line(n)) }
        hub.deliver()
        for after in [1, 2, 99] {
            let stream = ResponseStream(bufferLimit: 1 << 20)
            #expect(hub.subscribe(stream, after: after) == .reset)
            let (bytes, finished) = stream.takePending()
            #expect(String(decoding: bytes, as: UTF8.self) == "retry: 500\n\n" + #"event: source\#ndata: {"source":"live"}\#n\#n"#
                    + "event: reset\ndata: {}\n\n" && finished)
        }
        let kept = ResponseStream(bufferLimit: 1 << 20)
        #expect(hub.subscribe(kept, after: 3) == .streaming(backlog: 3))
        #expect(hub.snapshot().lastId == 6 && hub.snapshot().lines.count == 3)
    }

    @Test("a browser that stops reading is dropped when its buffer is full; the others get every event")
    func slowClientDropped() {
        let hub = EventHub(capacity: 1000, deliveryThread: false)
        let slow = ResponseStream(bufferLimit: 4096)
        let fast = ResponseStream(bufferLimit: 4096)
        _ = hub.subscribe(slow, after: nil)
        _ = hub.subscribe(fast, after: nil)
        var received: [Int] = []
        for n in 1...500 {
            hub.append(Self.line(n))
            hub.deliver()
            received += Self.ids(Self.text(fast))   // the fast one reads as it comes
        }
        #expect(received == Array(1...500))
        #expect(hub.streamCount == 1, "the slow stream was dropped")
        let (bytes, finished) = slow.takePending()
        #expect(bytes.isEmpty && finished, "its buffer was freed and the stream ended")
    }

    @Test("a backlog larger than a browser's buffer is a reset (the page reloads events.jsonl)")
    func backlogTooLarge() {
        let hub = EventHub(capacity: 1000, deliveryThread: false)
        for n in 1...500 { hub.append(Self.line(n)) }
        hub.deliver()
        #expect(hub.subscribe(ResponseStream(bufferLimit: 4096), after: 0) == .reset)
        #expect(hub.subscribe(ResponseStream(bufferLimit: 4096), after: 490) == .streaming(backlog: 10))
    }

    @Test("every stream opens with event: source, live or replay: the page's badge")
    func source() {
        for (source, word) in [(EventHub.Source.live, "live"), (.replay, "replay")] {
            let hub = EventHub(capacity: 10, deliveryThread: false, source: source)
            let stream = ResponseStream(bufferLimit: 1 << 20)
            _ = hub.subscribe(stream, after: nil)
            #expect(Self.text(stream) == "retry: 500\n\nevent: source\ndata: {\"source\":\"\(word)\"}\n\n")
        }
    }

    @Test("end: every stream gets event: end and finishes; a later stream gets its backlog and the end")
    func end() {
        let hub = EventHub(capacity: 10, deliveryThread: false)
        let stream = ResponseStream(bufferLimit: 1 << 20)
        _ = hub.subscribe(stream, after: nil)
        hub.append(Self.line(1))
        hub.end()   // delivers what is left first
        let (bytes, finished) = stream.takePending()
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("event: end\ndata: {}\n\n") && finished)
        let late = ResponseStream(bufferLimit: 1 << 20)
        _ = hub.subscribe(late, after: nil)
        let text = Self.text(late)
        #expect(Self.ids(text) == [1] && text.hasSuffix("event: end\ndata: {}\n\n"))
        #expect(hub.streamCount == 0)
    }

    @Test("[ADDR:]PORT of --serve")
    func serveAddress() {
        #expect(ServeAddress("8080") == ServeAddress(host: "127.0.0.1", port: 8080))
        #expect(ServeAddress("0") == ServeAddress(host: "127.0.0.1", port: 0))
        #expect(ServeAddress("0.0.0.0:80") == ServeAddress(host: "0.0.0.0", port: 80))
        #expect(ServeAddress("[::1]:8080") == ServeAddress(host: "::1", port: 8080))
        for bad in ["", "x", "70000", "-1", ":80", "host:", "80 "] { #expect(ServeAddress(bad) == nil, "\(bad)") }
    }

    @Test("resume point: the Last-Event-ID header first, then ?after=N; junk counts as none")
    func resumePoint() {
        #expect(LiveViewHandler.resumePoint(header: "7", query: "3") == 7)
        #expect(LiveViewHandler.resumePoint(header: nil, query: "3") == 3)
        #expect(LiveViewHandler.resumePoint(header: "x", query: nil) == nil)
        #expect(LiveViewHandler.split("/events?after=3&x") == ("/events", ["after": "3", "x": ""]))
    }

    @Test("a page that loaded events.jsonl ahead of delivery gets only the events after its id")
    func aheadOfDelivery() {
        let hub = EventHub(capacity: 100, deliveryThread: false)
        for n in 1...3 { hub.append(Self.line(n)) }
        hub.deliver()
        for n in 4...6 { hub.append(Self.line(n)) }   // kept, not yet delivered
        let stream = ResponseStream(bufferLimit: 1 << 20)
        #expect(hub.subscribe(stream, after: 5) == .streaming(backlog: 0))
        hub.deliver()
        hub.append(Self.line(7))
        hub.deliver()
        #expect(Self.ids(Self.text(stream)) == [6, 7])
    }

    @Test("the delivery thread: many events appended at once reach a stream, each once, in order")
    func deliveryThread() throws {
        let hub = EventHub(capacity: 100_000)
        let stream = ResponseStream(bufferLimit: 64 << 20)
        _ = hub.subscribe(stream, after: nil)
        for n in 1...20_000 { hub.append(Self.line(n)) }
        var ids: [Int] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ids.last != 20_000 && ContinuousClock.now < deadline {
            ids += Self.ids(Self.text(stream))
        }
        #expect(ids == Array(1...20_000))
    }
}
