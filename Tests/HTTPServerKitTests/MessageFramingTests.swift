import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("MessageFraming") struct MessageFramingTests {
    func framing(_ fields: [(String, String)]) -> Result<MessageFraming, MessageFraming.Refusal> {
        var headers = HTTPHeaders()
        for (name, value) in fields { headers.append(name: name, value: value) }
        return MessageFraming.of(headers)
    }

    @Test func contentLengthMustBeDigitsAndAgree() {
        #expect(framing([]) == .success(.none))
        #expect(framing([("Content-Length", "27")]) == .success(.length(27)))
        #expect(framing([("Content-Length", "27"), ("content-length", "27")]) == .success(.length(27)))
        #expect(framing([("Content-Length", "27, 27")]) == .success(.length(27)))
        #expect(framing([("Content-Length", "0"), ("Content-Length", "27")]) == .failure(.conflictingContentLengths))
        #expect(framing([("Content-Length", "1, 2")]) == .failure(.conflictingContentLengths))
        for bad in ["+27", "-0", "27x", "", "2 7", "0x1b", "99999999999999999999"] {
            #expect(framing([("Content-Length", bad)]) == .failure(.badContentLength(bad)), "\(bad)")
        }
        #expect(framing([("Transfer-Encoding", "chunked")]) == .success(.transferEncoding))
        #expect(framing([("Transfer-Encoding", "chunked"), ("Content-Length", "3")]) == .failure(.transferEncodingWithLength))
    }

    @Test func headerLinesRFC9112() {
        #expect(RequestParser.parseHeaderLine(Array("Content-Length : 27\r\n".utf8)) == .malformed("white space before the colon"))
        #expect(RequestParser.parseHeaderLine(Array("A: b\rX-Hidden: 1\r\n".utf8)) == .malformed("bare CR"))
        #expect(RequestParser.parseHeaderLine(Array("A: b\r\r\n".utf8)) == .malformed("bare CR"))
        #expect(RequestParser.parseHeaderLine(Array(": empty\r\n".utf8)) == .malformed("empty field name"))
        #expect(RequestParser.parseHeaderLine(Array("A: b\n".utf8)) == .field(name: "A", value: "b"))
    }
}
