/// A `206 Partial Content` body with several ranges (RFC 9110 §14.6): each range is a part
/// with its own head, between boundary lines, in the order the client asked, as nginx sends it.
///
///     Content-Type: multipart/byteranges; boundary=00000000000000000042
///
///     \r\n--00000000000000000042\r\n
///     Content-Type: text/plain\r\n
///     Content-Range: bytes 0-9/100\r\n
///     \r\n
///     (bytes 0 to 9)
///     \r\n--00000000000000000042\r\n
///     ...
///     \r\n--00000000000000000042--\r\n
public struct MultipartByteRanges: Sendable {
    /// One part: its head (boundary line and headers) and the file bytes that follow it.
    public struct Part: Sendable {
        public let head: [UInt8]
        public let range: Range<Int>
    }

    public let boundary: String
    public let parts: [Part]
    /// The closing boundary line.
    public let trailer: [UInt8]

    public init(ranges: [Range<Int>], size: Int, contentType: String, boundary: String) {
        self.boundary = boundary
        parts = ranges.map { range in
            let head = "\r\n--\(boundary)\r\nContent-Type: \(contentType)\r\n"
                + "Content-Range: bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)\r\n\r\n"
            return Part(head: RequestParser.latin1Bytes(head), range: range)
        }
        trailer = Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The `Content-Type` header's value.
    public var contentType: String { "multipart/byteranges; boundary=\(boundary)" }

    /// The body's length, for `Content-Length`.
    public var length: Int {
        parts.reduce(trailer.count) { $0 + $1.head.count + $1.range.count }
    }
}
