import HTTPServerKit
import SocketCore
import Timeline

/// The projector view's request handler: the page, its event stream, the events kept and the
/// diagram as SVG. A `RequestHandler` like any other, so our own HTTP library serves it (the
/// epoll engine holds each open event stream as a buffer, not a thread).
///
///     GET /              the page (LiveViewPage)
///     GET /events        text/event-stream: `id: N` + `data: {json}` per event, from the
///                        request's Last-Event-ID header, else ?after=N, else the oldest kept
///     GET /events.jsonl  every event kept, with `Last-Event-ID: N` (the last line's id), read
///                        from the ring as the client takes it
///     GET /words.json    the wording table (StepWording.json): every step's and finding's caption and sentence
///     GET /ladder.svg    SVGLadderWriter's diagram of the events kept (?conn=N: one connection),
///                        drawn one connection at a time as the client takes it
///     GET /timeseq.svg   TimeSequenceWriter's graph of one connection (?conn=N; default the first with data)
///     GET /_test/drop    only with test hooks on (LiveViewServer.testHooksVariable): closes every
///                        event stream (browsers reconnect); each stream's start is then logged on
///                        stderr, `stream after N (Last-Event-ID|query|start)`
public final class LiveViewHandler: RequestHandler {
    let hub: EventHub
    let testHooks: Bool

    public init(socket: Socket, clientAddress: String, hub: EventHub, testHooks: Bool = false) {
        self.hub = hub
        self.testHooks = testHooks
        super.init(socket: socket, clientAddress: clientAddress)
        protocolVersion = "HTTP/1.1"   // keep-alive for the page's requests, chunked streams
    }

    public override var serverVersion: String { "sockettutor-liveview/1" }

    /// The browser's requests are not what the teacher's terminal is for: no access log.
    public override func logMessage(_ message: String) {}

    public override func doGET() throws { try route(sendBody: true) }
    public override func doHEAD() throws { try route(sendBody: false) }

    private func route(sendBody: Bool) throws {
        let (target, query) = Self.split(path)
        switch target {
        case "/", "/index.html":
            try respond(LiveViewPage.html, type: LiveViewPage.contentType, sendBody: sendBody)
        case "/events" where sendBody:
            try streamEvents(query: query)
        case "/events":
            try respond([], type: "text/event-stream", sendBody: false)
        case "/events.jsonl":
            try streamEventLines(sendBody: sendBody)
        case "/words.json":
            try respond(Array(StepWording.json.utf8), type: "application/json; charset=utf-8", sendBody: sendBody)
        case "/ladder.svg":
            try streamLadder(connection: query["conn"].flatMap { Int($0) }, sendBody: sendBody)
        case "/timeseq.svg":
            let connection = query["conn"].flatMap { Int($0) }
            try respond(Array(timeSequenceSVG(connection: connection).utf8), type: "image/svg+xml; charset=utf-8", sendBody: sendBody)
        case "/_test/drop" where testHooks:
            hub.dropStreams()
            try respond(Array("dropped\n".utf8), type: "text/plain; charset=utf-8", sendBody: sendBody)
        default:
            try sendError(404)
        }
    }

    /// A whole response: status 200, its length, no caching (the view changes all the time).
    private func respond(_ body: [UInt8], type: String, extra: [(String, String)] = [], sendBody: Bool) throws {
        sendResponse(200)
        sendHeader("Content-Type", type)
        sendHeader("Content-Length", String(body.count))
        sendHeader("Cache-Control", "no-store")
        for (name, value) in extra { sendHeader(name, value) }
        try endHeaders()
        if sendBody { try wfile.write(body) }
    }

    /// `/events`: the head, then the stream stays open and the hub feeds it. HTTP/1.1 clients
    /// (every browser) get a chunked body, HTTP/1.0 ones a close-delimited body.
    private func streamEvents(query: [String: String]) throws {
        let after = Self.resumePoint(header: headers["Last-Event-ID"], query: query["after"])
        sendResponse(200)
        sendHeader("Content-Type", "text/event-stream")
        sendHeader("Cache-Control", "no-store")
        if requestVersion == "HTTP/1.1" { sendHeader("Transfer-Encoding", "chunked") }
        sendHeader("Connection", "close")
        try endHeaders()
        let stream = try openResponseStream(bufferLimit: EventHub.clientBufferLimit)
        let start = hub.subscribe(stream, after: after)
        if testHooks {
            // What the browser test checks: a dropped stream resumes from the browser's own header.
            let how = headers["Last-Event-ID"] != nil ? "Last-Event-ID" : query["after"] != nil ? "query" : "start"
            Console.error("stream after \(after ?? 0) (\(how))\(start == .reset ? ": reset" : "")")
        }
    }

    /// Where a stream starts: the browser's own `Last-Event-ID` first (a reconnect), then
    /// `?after=N` (the page after loading events.jsonl); nil for the oldest kept. An id that
    /// is not a number counts as none, as in the browser's own parsing.
    static func resumePoint(header: String?, query: String?) -> Int? {
        for text in [header, query] {
            if let text, let id = Int(text), id >= 0 { return id }
        }
        return nil
    }

    /// The kernel's send buffer of a body made as the client reads it (SO_SNDBUF; the kernel
    /// doubles it): fixed, because autotuning lets the buffer of a client that reads nothing grow
    /// to tcp_wmem's maximum (4 MiB here), kernel memory no limit of ours would count. 128 KiB
    /// still keeps a LAN's link busy (256 KiB per millisecond of round trip). Event streams keep
    /// autotuning: the kernel's buffer is what absorbs a burst before the hub's 1 MiB limit.
    static let sourceSendBuffer: Int32 = 128 * 1024

    /// Opens the response stream of a body `source` makes, with its socket's send buffer fixed.
    private func openStream(source: any ResponseSource) throws -> ResponseStream {
        try? socket.setBufferSizes(send: Self.sourceSendBuffer)
        return try openResponseStream(source: source)
    }

    /// `/events.jsonl`: the events kept when the request came, read from the ring as the client
    /// takes them (`EventLinesSource`). Its length is known at once: the ring counts its bytes.
    private func streamEventLines(sendBody: Bool) throws {
        let (first, last, bytes) = hub.keptRange()
        sendResponse(200)
        sendHeader("Content-Type", "application/x-ndjson")
        sendHeader("Content-Length", String(bytes))
        sendHeader("Cache-Control", "no-store")
        sendHeader("Last-Event-ID", String(last))
        try endHeaders()
        guard sendBody else { return }
        _ = try openStream(source: EventLinesSource(hub: hub, from: first, through: last))
    }

    /// `/ladder.svg`: the diagram of the events so far, planned at once (the ladder is kept up
    /// to date by the hub) and drawn one connection at a time as the client reads
    /// (`SVGLadderSource`): a large diagram or a client that does not read holds no worker.
    /// Its length is not known before it is drawn: chunked for HTTP/1.1, else up to the FIN.
    private func streamLadder(connection: Int?, sendBody: Bool) throws {
        sendResponse(200)
        sendHeader("Content-Type", "image/svg+xml; charset=utf-8")
        sendHeader("Cache-Control", "no-store")
        if requestVersion == "HTTP/1.1" { sendHeader("Transfer-Encoding", "chunked") }
        sendHeader("Connection", "close")
        try endHeaders()
        guard sendBody else {
            closeConnection = true
            return
        }
        _ = try openStream(source: SVGLadderSource(hub.ladderDocument(connection: connection)))
    }

    /// The time-sequence graph of one connection (default: the first with data) from the events
    /// kept, with its congestion window when the kernel's samples are there.
    private func timeSequenceSVG(connection: Int?) -> String {
        let (lines, _) = hub.snapshot()
        // The packets, and the kernel's congestion-window samples (`--kernel`) for the plot under the graph.
        let packets = lines.filter { $0.starts(with: Array("{\"type\":\"packet\"".utf8)) || $0.starts(with: Array("{\"type\":\"tcp-probe\"".utf8)) }
        let text = packets.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        return TimeSequenceWriter.svg(EventsFile.parse(text).events, connection: connection)
    }

    /// `/events?after=3` → ("/events", ["after": "3"]).
    static func split(_ path: String) -> (String, [String: String]) {
        guard let mark = path.firstIndex(of: "?") else { return (path, [:]) }
        var query: [String: String] = [:]
        for pair in path[path.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return (String(path[..<mark]), query)
    }
}
