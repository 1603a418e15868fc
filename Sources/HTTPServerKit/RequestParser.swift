/// Reading a request line and header lines, byte by byte, as Python's `parse_request` does.
///
///     GET /docs/index.html?x=1 HTTP/1.1\r\n      ← request line: command, path, version
///     Host: 127.0.0.1:8000\r\n                    ← header lines: name ": " value
///     \r\n                                        ← an empty line ends the head
///
/// Bytes are decoded as ISO-8859-1 (one byte, one character), like Python, so nothing is lost:
/// the path keeps any byte the client sent, and `String` is only a carrier.
public enum RequestParser {
    /// What a request line says.
    public enum RequestLine: Equatable, Sendable {
        /// A blank line: the client has nothing to ask; the connection is closed without reply.
        case empty
        /// A usable request. `version` is `"HTTP/0.9"` for a two-word `GET /path`, which
        /// gets a bare body back (no status line, no headers).
        case request(command: String, path: String, version: String, major: Int, minor: Int)
        /// A line to answer with an error. `versionKnown` tells whether the status line may be sent.
        case error(code: Int, message: String, versionKnown: Bool)
    }

    /// Parses one request line (with or without its CRLF).
    public static func parseRequestLine(_ raw: [UInt8]) -> RequestLine {
        let bytes = trimmingLineEnd(raw)
        let words = splitWords(bytes)
        if words.isEmpty { return .empty }
        var version = "HTTP/0.9"
        var major = 0, minor = 9
        if words.count >= 3 {
            let candidate = words[words.count - 1]
            guard let number = parseVersion(candidate) else {
                return .error(code: 400, message: "Bad request version (\(pythonRepr(candidate)))", versionKnown: true)
            }
            if number.major >= 2 {
                return .error(code: 505, message: "Invalid HTTP version (\(candidate.dropFirst(5)))", versionKnown: true)
            }
            version = candidate
            (major, minor) = number
        }
        guard (2...3).contains(words.count) else {
            return .error(code: 400, message: "Bad request syntax (\(pythonRepr(latin1(bytes))))", versionKnown: words.count >= 3)
        }
        let command = words[0]
        var path = words[1]
        if words.count == 2 && command != "GET" {
            return .error(code: 400, message: "Bad HTTP/0.9 request type (\(pythonRepr(command)))", versionKnown: false)
        }
        // gh-87389: "//evil.example/x" would read, in a Location header, as another host.
        if path.hasPrefix("//") {
            path = "/" + path.drop(while: { $0 == "/" })
        }
        return .request(command: command, path: path, version: version, major: major, minor: minor)
    }

    /// `HTTP/1.1` → (1, 1). Like Python: exactly one dot, digits only, at most 10 digits each.
    public static func parseVersion(_ text: String) -> (major: Int, minor: Int)? {
        if text == "HTTP/1.1" { return (1, 1) }   // nearly every request: skip the general case
        if text == "HTTP/1.0" { return (1, 0) }
        guard text.hasPrefix("HTTP/") else { return nil }
        let parts = text.dropFirst(5).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 10 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    /// One header line: `.field(name, value)`, `.continuation(text)` for an obsolete folded
    /// line, `.end` for the empty line, `.malformed(reason)` for a line RFC 9112 says to reject.
    public enum HeaderLine: Equatable, Sendable {
        case field(name: String, value: String)
        case continuation(String)
        case end
        case malformed(String)
    }

    /// Parses one header line (with its LF or CRLF), strictly as RFC 9112 §5 frames it:
    ///
    ///     field-line = field-name ":" OWS field-value OWS
    ///
    /// A request smuggler hides a header where one server sees it and another does not, so
    /// every shape two parsers could read differently is rejected (400), as nginx does: a CR
    /// that is not part of the line end (§2.2), white space between the name and the colon
    /// (§5.1), an empty name, and a line without a colon.
    public static func parseHeaderLine(_ raw: [UInt8]) -> HeaderLine {
        var bytes = raw[...]
        if bytes.last == 0x0A {
            bytes.removeLast()
            if bytes.last == 0x0D { bytes.removeLast() }
        }
        if bytes.isEmpty { return .end }
        if bytes.contains(0x0D) { return .malformed("bare CR") }
        if bytes.first == UInt8(ascii: " ") || bytes.first == UInt8(ascii: "\t") {
            return .continuation(latin1(trimmingSpace(bytes)))   // obs-fold: joined with one SP (§5.2)
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return .malformed("no colon") }
        guard colon > bytes.startIndex else { return .malformed("empty field name") }
        let last = bytes[colon - 1]
        if last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { return .malformed("white space before the colon") }
        return .field(name: latin1(bytes[..<colon]), value: latin1(trimmingSpace(bytes[(colon + 1)...])))
    }

    /// Whether headers follow this request line: only when it ends in an `HTTP/x.y` version
    /// (a two-word HTTP/0.9 request has none, and a malformed line is answered at once).
    public static func mayHaveHeaders(requestLine: UnsafeRawBufferPointer) -> Bool {
        var bytes = requestLine[...]
        while let last = bytes.last, isPythonSpace(last) { bytes.removeLast() }
        let words = bytes.split(whereSeparator: isPythonSpace)
        guard words.count >= 3, let version = words.last else { return false }
        return version.starts(with: "HTTP/".utf8)
    }

    // MARK: - Helpers shared with the handler

    /// Bytes → String, one character per byte (ISO-8859-1), as Python decodes the request.
    public static func latin1(_ bytes: some Collection<UInt8>) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return text
    }

    /// String → bytes, the inverse of `latin1` (characters above U+00FF cannot come from the wire).
    public static func latin1Bytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        appendLatin1(text, to: &bytes)
        return bytes
    }

    /// Appends `latin1Bytes(text)` to `buffer` without an array in between (a response head
    /// is built this way, header by header).
    public static func appendLatin1(_ text: String, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: text.utf8)   // ASCII, nearly always: then already done
        guard buffer[start...].contains(where: { $0 >= 0x80 }) else { return }
        buffer.removeSubrange(start...)
        for scalar in text.unicodeScalars { buffer.append(UInt8(truncatingIfNeeded: scalar.value)) }
    }

    /// Python's `str.split()` on the ISO-8859-1 line: runs of white space separate words
    /// (white space there includes \x1c-\x1f, \x85 and \xa0).
    static func splitWords(_ line: [UInt8]) -> [String] {
        line.split(whereSeparator: isPythonSpace).map { latin1($0) }
    }

    static func isPythonSpace(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        default: return false
        }
    }

    /// Python's `repr()` of a short string: quotes, and escapes for control characters.
    public static func pythonRepr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where scalar.value < 0x20 || (0x7F...0xA0).contains(scalar.value) || scalar.value == 0xAD:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }

    static func trimmingLineEnd(_ bytes: [UInt8]) -> [UInt8] {
        var end = bytes.count
        while end > 0 && (bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D) { end -= 1 }
        return end == bytes.count ? bytes : Array(bytes[..<end])
    }

    static func trimmingSpace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
        return slice
    }
}
