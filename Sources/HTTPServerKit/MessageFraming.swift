/// Where a request's body ends (RFC 9112 §6): the rules that decide which bytes belong to
/// this request and which start the next one.
///
/// Two servers that disagree on this split one connection's bytes into different requests,
/// which is how request smuggling works. So anything ambiguous is refused with 400 and the
/// connection closed, as nginx does.
public enum MessageFraming: Equatable, Sendable {
    /// No body: the next byte starts the next request.
    case none
    /// `Content-Length: n`.
    case length(Int)
    /// `Transfer-Encoding` (chunked): this server does not decode it; the connection closes
    /// after the response, since the end of the body is unknown.
    case transferEncoding

    /// The framing the headers announce, or why the request must get 400.
    public static func of(_ headers: HTTPHeaders) -> Result<MessageFraming, Refusal> {
        var length: Int?
        for field in headers.fields where HTTPHeaders.equalIgnoringCase(field.name, "Content-Length") {
            // A list (`27, 27`) is what a proxy makes of two fields: allowed when all agree (§6.3).
            for item in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let value = decimal(item.trimmingSpaces) else { return .failure(.badContentLength(field.value)) }
                if let earlier = length, earlier != value { return .failure(.conflictingContentLengths) }
                length = value
            }
        }
        if headers["Transfer-Encoding"] != nil {
            // §6.1: a server MAY reject a request with both, and MUST close the connection after
            // it either way. nginx rejects it; so do we.
            return length == nil ? .success(.transferEncoding) : .failure(.transferEncodingWithLength)
        }
        return .success(length.map { .length($0) } ?? .none)
    }

    /// Why a request's framing is refused; `message` is the 400 page's message.
    public enum Refusal: Error, Equatable, Sendable {
        case badContentLength(String)
        case conflictingContentLengths
        case transferEncodingWithLength

        public var message: String {
            switch self {
            case .badContentLength(let value): "Bad Content-Length (\(RequestParser.pythonRepr(value)))"
            case .conflictingContentLengths: "Conflicting Content-Length values"
            case .transferEncodingWithLength: "Both Transfer-Encoding and Content-Length"
            }
        }
    }

    /// `1*DIGIT` (§8.6): no sign, no spaces inside, no empty value; nil past Int's range.
    static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}
