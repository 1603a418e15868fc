/// The bytes of a response head as the handler queues them: the status line, header lines, the
/// empty line (RFC 9112 section 4 and 5), built in one reused buffer.
///
///     HTTP/1.0 200 OK\r\n
///     Server: SimpleHTTP/0.6 Swift\r\n
///     Content-Length: 11\r\n
///     \r\n
///
/// `RequestHandler`'s `sendResponseOnly`, `sendHeader` and `endHeaders` say *what* goes into the
/// head, as Python's do; this type is *how* the bytes are laid down, with no intermediate strings
/// (a server answering tens of thousands of requests a second builds one head per request).
struct ResponseHead {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(512) }

    /// `HTTP/1.0 200 OK` CR LF. The reason phrase is sent as Latin-1, as Python does.
    mutating func statusLine(_ version: String, _ code: Int, _ phrase: String) {
        bytes.append(contentsOf: version.utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: String(code).utf8)
        bytes.append(UInt8(ascii: " "))
        RequestParser.appendLatin1(phrase, to: &bytes)
        bytes.append(0x0D)   // CR LF
        bytes.append(0x0A)
    }

    /// `Name: value` CR LF.
    mutating func header(_ name: String, _ value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
        RequestParser.appendLatin1(value, to: &bytes)
        bytes.append(0x0D)   // CR LF
        bytes.append(0x0A)
    }

    /// Adds the empty line that ends the head, hands the whole head to `body`, and empties the
    /// buffer (keeping its memory) for the next response.
    mutating func finish(_ body: ([UInt8]) throws -> Void) rethrows {
        bytes.append(0x0D)   // the empty line: CR LF
        bytes.append(0x0A)
        defer { bytes.removeAll(keepingCapacity: true) }
        try body(bytes)
    }
}
