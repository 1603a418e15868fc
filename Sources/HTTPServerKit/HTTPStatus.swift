/// The status codes this server sends, with Python's `HTTPStatus` phrase (the status line's
/// reason) and description (the "explain" line of the error page), word for word.
public enum HTTPStatus {
    /// `(phrase, explanation)` for `code`, or `("???", "???")` as Python does for unknown codes.
    public static func describe(_ code: Int) -> (phrase: String, explanation: String) {
        switch code {
        case 100: return ("Continue", "Request received, please continue")
        case 200: return ("OK", "Request fulfilled, document follows")
        case 206: return ("Partial Content", "Partial content follows")
        case 301: return ("Moved Permanently", "Object moved permanently -- see URI list")
        case 304: return ("Not Modified", "Document has not changed since given time")
        case 400: return ("Bad Request", "Bad request syntax or unsupported method")
        case 403: return ("Forbidden", "Request forbidden -- authorization will not help")
        case 404: return ("Not Found", "Nothing matches the given URI")
        case 408: return ("Request Timeout", "Request timed out; try again later")
        case 414: return ("Request-URI Too Long", "URI is too long")
        case 416: return ("Requested Range Not Satisfiable", "Cannot satisfy request range")
        case 431: return ("Request Header Fields Too Large",
                          "The server is unwilling to process the request because its header fields are too large")
        case 500: return ("Internal Server Error", "Server got itself in trouble")
        case 501: return ("Not Implemented", "Server does not support this operation")
        case 503: return ("Service Unavailable", "The server cannot process the request due to a high load")
        case 505: return ("HTTP Version Not Supported", "Cannot fulfill request")
        default: return ("???", "???")
        }
    }
}
