import SocketCore

/// The base request handler: Python's `BaseHTTPRequestHandler`, method for method.
///
/// The server makes one handler per connection and calls `handle()` (Python's name), which
/// serves requests until the connection is to close. It reads a request
/// (`parseRequest`), calls the method named after the command (`GET` → `doGET()`), and answers
/// through `sendResponse` / `sendHeader` / `endHeaders` and the body stream `wfile`. A subclass
/// only writes the `doXXX` methods it supports; any other command gets 501.
///
///     final class HelloHandler: RequestHandler {
///         override func doGET() throws {
///             sendResponse(200)
///             sendHeader("Content-Length", "11")
///             try endHeaders()
///             try wfile.write("hello world")
///         }
///     }
open class RequestHandler {
    /// The connected socket accept() returned.
    public let socket: Socket
    /// Buffered reading of the request (Python's `rfile`).
    public let rfile: ConnectionReader
    /// Buffered writing of the response (Python's `wfile`).
    public let wfile: ConnectionWriter
    /// The client's IP address, as the log line shows it.
    public let clientAddress: String

    /// `HTTP/1.0` (the default, as in Python: one request per connection) or `HTTP/1.1`
    /// (keep-alive: the connection stays open for the next request).
    public var protocolVersion = "HTTP/1.0"
    /// Seconds a request head may take to arrive in full (against slowloris clients).
    public var requestTimeout: Double = 20

    /// `Server:` header, first part. Subclasses name themselves (`SimpleHTTP/0.6`).
    open var serverVersion: String { "BaseHTTP/0.6" }
    /// `Server:` header, second part (Python puts its own version there).
    open var systemVersion: String { "Swift" }
    /// The `Server:` header's value, `SimpleHTTP/0.6 Swift` (Python's `version_string()`),
    /// joined once per connection rather than once per response.
    public private(set) lazy var versionString = serverVersion + " " + systemVersion

    // The current request, as parseRequest() found it.
    public private(set) var command = ""
    public private(set) var path = ""
    public private(set) var requestVersion = "HTTP/0.9"
    public private(set) var requestline = ""
    public private(set) var headers = HTTPHeaders()
    /// Where this request's body ends (`Content-Length`, `Transfer-Encoding`, or no body).
    public private(set) var framing = MessageFraming.none
    /// Set when the connection must close after this response.
    public var closeConnection = true
    /// True once an error response was sent: the close waits for the client's remaining bytes.
    public private(set) var sentError = false
    /// The body left open by `openResponseStream()`, for the server to write after the handler.
    public private(set) var responseStream: ResponseStream?

    /// The response head being queued (status line, headers) until `endHeaders`.
    private var head = ResponseHead()
    /// Whether the head being sent said `Transfer-Encoding: chunked`.
    private var sentChunkedHead = false
    private var clock = HTTPDate.CurrentSecond()

    public init(socket: Socket, clientAddress: String) {
        self.socket = socket
        self.clientAddress = clientAddress
        rfile = ConnectionReader(socket: socket)
        wfile = ConnectionWriter(socket: socket)
    }

    // MARK: - The request loop

    /// Handles requests until the connection is to close (one for HTTP/1.0, several with
    /// keep-alive), blocking between them: Python's `handle()`.
    public func handle() {
        closeConnection = true
        repeat {
            serveOneRequest()
        } while !closeConnection
    }

    /// Handles the requests whose heads have already arrived (one, and any pipelined behind
    /// it); returns true when the connection stays open for more. For a server that reads
    /// request heads itself, without a thread (`rfile.receiveAvailable()`), and calls this once
    /// `rfile.holdsRequestHead`: no thread waits on an idle or slow client.
    public func handleReadyRequests() -> Bool {
        repeat {
            serveOneRequest()
        } while !closeConnection && rfile.holdsRequestHead
        return !closeConnection
    }

    /// Whether the client may still be sending bytes nobody will read (an error's request, an
    /// unread body): closing then would make the kernel send RST, which can destroy the
    /// response still on its way. The server reads them away first (a lingering close).
    public var leftInputUnread: Bool {
        sentError || rfile.bufferedCount > 0 || requestHasBody
    }

    private func serveOneRequest() {
        do {
            try handleOneRequest()
        } catch ConnectionReader.Failure.timedOut {
            if rfile.sawRequestBytes { requestTimedOut() }   // a silent client is just dropped
            closeConnection = true
        } catch {
            closeConnection = true   // the client went away (ECONNRESET, EPIPE): nothing to answer
        }
    }

    /// A request head did not arrive in full within the timeout: logged as Python logs the
    /// `TimeoutError` that ends its `handle_one_request`; the connection then closes.
    public func requestTimedOut() {
        logError("Request timed out: TimeoutError('timed out')")
        closeConnection = true
    }

    /// Reads one request, dispatches it, and sends what the method wrote.
    public func handleOneRequest() throws {
        rfile.beginRequest(deadlineSeconds: requestTimeout)
        let rawRequestline = try rfile.readLine(limit: 65537)
        if rawRequestline.count > 65536 {
            requestline = ""
            requestVersion = ""
            command = ""
            try sendError(414)
            try wfile.flush()
            return
        }
        if rawRequestline.isEmpty {
            closeConnection = true   // end of stream before a request: the client is done
            return
        }
        guard try parseRequest(rawRequestline) else {
            try wfile.flush()   // an error response, if any, has been written
            return
        }
        let bodyStart = rfile.position
        if try !dispatch(command) {
            try sendError(501, "Unsupported method (\(RequestParser.pythonRepr(command)))")
        }
        try wfile.flush()
        try discardRequestBody(alreadyRead: rfile.position - bodyStart)
    }

    /// Calls `doGET()` for GET and so on; false for a command this class has no method for.
    open func dispatch(_ command: String) throws -> Bool {
        switch command {
        case "GET": try doGET()
        case "HEAD": try doHEAD()
        case "POST": try doPOST()
        case "PUT": try doPUT()
        case "DELETE": try doDELETE()
        case "OPTIONS": try doOPTIONS()
        case "PATCH": try doPATCH()
        default: return false
        }
        return true
    }

    // The methods a subclass overrides. Left alone, each answers 501 Not Implemented.
    open func doGET() throws { try sendUnsupported() }
    open func doHEAD() throws { try sendUnsupported() }
    open func doPOST() throws { try sendUnsupported() }
    open func doPUT() throws { try sendUnsupported() }
    open func doDELETE() throws { try sendUnsupported() }
    open func doOPTIONS() throws { try sendUnsupported() }
    open func doPATCH() throws { try sendUnsupported() }

    private func sendUnsupported() throws {
        try sendError(501, "Unsupported method (\(RequestParser.pythonRepr(command)))")
    }

    // MARK: - Parsing

    /// Parses the request line and the headers into `command`, `path`, `requestVersion` and
    /// `headers`. Returns false when an error response has been written instead (or, for a
    /// blank line, when there is nothing to answer).
    public func parseRequest(_ rawRequestline: [UInt8]) throws -> Bool {
        command = ""
        requestVersion = "HTTP/0.9"
        closeConnection = true
        headers = HTTPHeaders()
        framing = .none
        requestline = RequestParser.latin1(RequestParser.trimmingLineEnd(rawRequestline))

        var major = 0, minor = 9
        switch RequestParser.parseRequestLine(rawRequestline) {
        case .empty:
            return false
        case let .error(code, message, versionKnown):
            // Python 3.11 answers a bad or too-new version with a bare HTTP/0.9 body; a status
            // line is what clients expect, so we send one whenever the line had a version field.
            if versionKnown { requestVersion = protocolVersion }
            try sendError(code, message)
            return false
        case let .request(command, path, version, parsedMajor, parsedMinor):
            self.command = command
            self.path = path
            requestVersion = version
            (major, minor) = (parsedMajor, parsedMinor)
            if (major, minor) >= (1, 1) && protocolIsHTTP11 { closeConnection = false }
            if version == "HTTP/0.9" {
                // HTTP/0.9 has no headers: answer at once. (Python waits for an empty line that
                // a real 0.9 client never sends.)
                closeConnection = true
                return true
            }
        }

        // Header lines until the empty line (or end of stream), each at most 64 KiB, fewer than 100.
        // Like Python's `http.client._read_headers`, every line counts, folded and colon-less
        // ones too: otherwise endless continuation lines would grow one header without limit.
        // Beyond Python, all of them together stay under 256 KiB: 99 lines of 64 KiB held 6.5 MB
        // per connection, 6.5 GB for 1,024 hostile clients (nginx allows 32 KiB by default).
        var lineCount = 0
        var headBytes = 0
        while true {
            let line = try rfile.readLine(limit: 65537)
            if line.count > 65536 {
                try sendError(431, "Line too long", explain: "got more than 65536 bytes when reading header line")
                return false
            }
            if line.isEmpty { break }
            let parsed = RequestParser.parseHeaderLine(line)
            if parsed == .end { break }
            lineCount += 1
            if lineCount >= 100 {
                try sendError(431, "Too many headers", explain: "got more than 100 headers")
                return false
            }
            headBytes += line.count
            if headBytes > RequestHandler.maximumHeaderBytes {
                try sendError(431, explain: "got more than \(RequestHandler.maximumHeaderBytes) bytes of header lines")
                return false
            }
            switch parsed {
            case let .field(name, value): headers.append(name: name, value: value)
            case let .continuation(text) where headers.count > 0: headers.continueLast(with: text)
            case .continuation: return try refuse("folded line before any field")   // RFC 9112 §2.2
            case let .malformed(reason): return try refuse(reason)
            case .end: break
            }
        }
        switch MessageFraming.of(headers) {
        case let .success(found): framing = found
        case let .failure(refusal):
            try sendError(400, refusal.message)
            return false
        }

        let connection = headers["Connection"]?.lowercased() ?? ""
        if connection == "close" {
            closeConnection = true
        } else if connection == "keep-alive" && protocolIsHTTP11 && requestVersion != "HTTP/0.9" {
            closeConnection = false
        }
        if headers["Expect"]?.lowercased() == "100-continue" && protocolIsHTTP11 && (major, minor) >= (1, 1) {
            return try handleExpect100()
        }
        return true
    }

    /// A header line RFC 9112 says to reject: 400, and the connection closes (unlike Python,
    /// which ignores a line without a colon; nginx refuses it).
    private func refuse(_ reason: String) throws -> Bool {
        try sendError(400, "Bad header line (\(reason))")
        return false
    }

    /// `Expect: 100-continue`: the client waits for a go-ahead before sending its body. The
    /// default answers `100 Continue` at once; override to refuse (send an error, return false).
    open func handleExpect100() throws -> Bool {
        sendResponseOnly(100)
        try endHeaders()
        try wfile.flush()   // the client is waiting for these bytes before it sends more
        return true
    }

    /// A body the handler did not read must still be taken off the connection, or its bytes
    /// would be read as the next request. Small bodies are skipped; anything else ends keep-alive.
    /// `alreadyRead`: the bytes of it the method read itself (a `doPOST` reading the body).
    func discardRequestBody(alreadyRead: Int) throws {
        guard !closeConnection else { return }
        switch framing {
        case .none: break
        case .transferEncoding: closeConnection = true
        case let .length(count):
            if try count > 1 << 20 || !rfile.skip(max(0, count - alreadyRead)) { closeConnection = true }
        }
    }

    var protocolIsHTTP11: Bool { protocolVersion >= "HTTP/1.1" }

    /// Whether the request announced a body (`Content-Length` above 0, or `Transfer-Encoding`):
    /// unread, its bytes may still be arriving when the connection closes.
    public var requestHasBody: Bool {
        switch framing {
        case .none: false
        case .transferEncoding: true
        case let .length(count): count > 0
        }
    }

    /// All header lines of one request together (Python has no such limit; see parseRequest).
    public static let maximumHeaderBytes = 256 * 1024

    // MARK: - Responding

    /// Writes an error response with Python's HTML page, and logs it (`code 404, message ...`).
    /// The connection closes afterwards (`Connection: close`), as in Python.
    public func sendError(_ code: Int, _ message: String? = nil, explain: String? = nil,
                          headers extra: [(String, String)] = []) throws {
        let described = HTTPStatus.describe(code)
        let message = message ?? described.phrase
        let explain = explain ?? described.explanation
        sentError = true
        logError("code \(code), message \(message)")
        sendResponse(code, message)
        sendHeader("Connection", "close")
        for (name, value) in extra { sendHeader(name, value) }
        var body: [UInt8] = []
        if code >= 200 && code != 204 && code != 205 && code != 304 {
            body = Array(RequestHandler.errorPage(code: code, message: message, explain: explain).utf8)
            sendHeader("Content-Type", "text/html;charset=utf-8")
            sendHeader("Content-Length", String(body.count))
        }
        try endHeaders()
        if command != "HEAD" && !body.isEmpty { try wfile.write(body) }
    }

    /// Python's `DEFAULT_ERROR_MESSAGE`, with the message and explanation HTML-escaped.
    public static func errorPage(code: Int, message: String, explain: String) -> String {
        """
        <!DOCTYPE HTML>
        <html lang="en">
            <head>
                <meta charset="utf-8">
                <title>Error response</title>
            </head>
            <body>
                <h1>Error response</h1>
                <p>Error code: \(code)</p>
                <p>Message: \(HTMLEscaping.escape(message)).</p>
                <p>Error code explanation: \(code) - \(HTMLEscaping.escape(explain)).</p>
            </body>
        </html>

        """
    }

    /// Logs the request, then queues the status line and the `Server` and `Date` headers.
    public func sendResponse(_ code: Int, _ message: String? = nil) {
        logRequest(code: code)
        sendResponseOnly(code, message)
        sendHeader("Server", versionString)
        sendHeader("Date", clock.now().header)
    }

    /// Queues the status line `HTTP/1.0 200 OK` (nothing for an HTTP/0.9 request).
    public func sendResponseOnly(_ code: Int, _ message: String? = nil) {
        sentChunkedHead = false
        if requestVersion != "HTTP/0.9" {
            head.statusLine(protocolVersion, code, message ?? HTTPStatus.describe(code).phrase)
        }
    }

    /// Queues one header line `Name: value`. `Connection: close` / `keep-alive` also decide
    /// whether the connection stays open, as in Python.
    public func sendHeader(_ name: String, _ value: String) {
        if requestVersion != "HTTP/0.9" {
            head.header(name, value)
        }
        if HTTPHeaders.equalIgnoringCase(name, "Transfer-Encoding") {
            sentChunkedHead = requestVersion != "HTTP/0.9" && value.lowercased().hasSuffix("chunked")
        }
        if HTTPHeaders.equalIgnoringCase(name, "Connection") {
            if HTTPHeaders.equalIgnoringCase(value, "close") { closeConnection = true }
            else if HTTPHeaders.equalIgnoringCase(value, "keep-alive") { closeConnection = false }
        }
    }

    /// Ends the head with the empty line and hands it to `wfile`. The bytes leave with the body
    /// at the next flush, so a small response is a single send().
    public func endHeaders() throws {
        guard requestVersion != "HTTP/0.9" else { return }
        try head.finish { try wfile.write($0) }
    }

    /// Keeps the response open after this request: sends what is buffered (the head), and
    /// returns a stream other threads push the rest of the body into (Server-Sent Events).
    /// The connection closes when the stream finishes. A head that said
    /// `Transfer-Encoding: chunked` gets a chunked body; any other, a close-delimited one.
    /// `bufferLimit`: bytes a client may fall behind before it is dropped. `source`: a body
    /// made piece by piece as the client reads it (`ResponseSource`), instead of pushed.
    public func openResponseStream(bufferLimit: Int = .max, source: (any ResponseSource)? = nil) throws -> ResponseStream {
        try wfile.flush()
        closeConnection = true
        let stream = ResponseStream(bufferLimit: bufferLimit, chunked: sentChunkedHead, source: source)
        responseStream = stream
        return stream
    }

    // MARK: - Logging

    /// `"GET / HTTP/1.1" 200 -`: one line per response, from `sendResponse`.
    public func logRequest(code: Int, size: String = "-") {
        logMessage(AccessLogLine.requestMessage(requestline, code: code, size: size))
    }

    /// An error's line, `code 404, message File not found`.
    public func logError(_ message: String) {
        logMessage(message)
    }

    /// Writes `127.0.0.1 - - [21/Oct/2015 09:28:00] message` to stderr, escaped (`AccessLogLine`).
    open func logMessage(_ message: String) {
        logLine.write(client: clientAddress, time: clock.now().log, message: message)
    }

    private var logLine = AccessLogLine()
}
