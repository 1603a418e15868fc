import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

/// RFC 9112's message framing, one rule per case: each shape gets 400 and the connection
/// closes, so bytes meant as a body can never run as a second request.
@Suite("HTTPServer framing") struct FramingTests {
    static let refused: [(String, String)] = [
        ("two different Content-Length fields", "Content-Length: 0\r\nContent-Length: 27\r\n"),
        ("a list of different values", "Content-Length: 0, 27\r\n"),
        ("a sign", "Content-Length: +27\r\n"),
        ("minus zero", "Content-Length: -0\r\n"),
        ("a trailing letter", "Content-Length:  27x\r\n"),
        ("an empty value", "Content-Length: \r\n"),
        ("white space before the colon", "Content-Length : 27\r\n"),
        ("a bare CR hiding the next header", "X-A: b\rContent-Length: 27\r\n"),
        ("Transfer-Encoding with Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 27\r\n"),
        ("a line without a colon", "no colon here\r\n"),
        ("a folded line before any field", " folded\r\n"),
    ]

    static let smuggled = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"   // 27 bytes: the "body"

    @Test(arguments: FramingTests.refused.map(\.0)) func ruleGets400AndCloses(rule: String) throws {
        let header = FramingTests.refused.first { $0.0 == rule }!.1
        let f = try Fixture(["-p", "HTTP/1.1"])
        let client = try WireClient(port: f.port)
        try client.send("POST /a.txt HTTP/1.1\r\n" + header + "Host: x\r\n\r\n" + FramingTests.smuggled)
        let response = try client.readResponse()
        #expect(response.status == 400, "\(rule)")
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByServer(), "\(rule): the smuggled request must not be answered")
    }

    @Test func identicalDuplicatesAndFoldingAreAccepted() throws {
        let f = try Fixture(["-p", "HTTP/1.1"])
        let client = try WireClient(port: f.port)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
                        + "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().status == 200)   // the body was skipped, the next request read
    }
}
