import HTTPServerKit

/// The smallest useful handler: answers every GET with `hello world`.
///
/// This is Python's classic example, line for line:
///
///     class HelloHandler(BaseHTTPRequestHandler):
///         def do_GET(self):
///             self.send_response(200)
///             self.send_header("Content-Type", "text/plain; charset=utf-8")
///             self.send_header("Content-Length", "11")
///             self.end_headers()
///             self.wfile.write(b"hello world")
///
/// Any other method (HEAD, POST, ...) has no `doXXX` here, so the base class answers 501.
final class HelloHandler: RequestHandler {
    override func doGET() throws {
        let body = Array("hello world".utf8)
        sendResponse(200)                                  // HTTP/1.0 200 OK, Server, Date
        sendHeader("Content-Type", "text/plain; charset=utf-8")
        sendHeader("Content-Length", String(body.count))   // lets the client know where the body ends
        try endHeaders()                                   // the empty line
        try wfile.write(body)                              // the body; sent when the handler returns
    }
}
