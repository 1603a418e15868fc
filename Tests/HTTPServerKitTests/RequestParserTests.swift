import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("RequestParser") struct RequestParserTests {
    @Test func parsesRequestLine() {
        #expect(RequestParser.parseRequestLine(Array("GET /a?b HTTP/1.1\r\n".utf8))
                == .request(command: "GET", path: "/a?b", version: "HTTP/1.1", major: 1, minor: 1))
        #expect(RequestParser.parseRequestLine(Array("\r\n".utf8)) == .empty)
    }

    @Test func http09TwoWordGet() {
        #expect(RequestParser.parseRequestLine(Array("GET /x\r\n".utf8))
                == .request(command: "GET", path: "/x", version: "HTTP/0.9", major: 0, minor: 9))
        #expect(RequestParser.parseRequestLine(Array("POST /x\r\n".utf8))
                == .error(code: 400, message: "Bad HTTP/0.9 request type ('POST')", versionKnown: false))
    }

    @Test func badVersionsAndSyntax() {
        #expect(RequestParser.parseRequestLine(Array("GET / FOO/1.0\r\n".utf8))
                == .error(code: 400, message: "Bad request version ('FOO/1.0')", versionKnown: true))
        #expect(RequestParser.parseRequestLine(Array("GET / HTTP/1.1.1\r\n".utf8))
                == .error(code: 400, message: "Bad request version ('HTTP/1.1.1')", versionKnown: true))
        #expect(RequestParser.parseRequestLine(Array("GET / HTTP/2.0\r\n".utf8))
                == .error(code: 505, message: "Invalid HTTP version (2.0)", versionKnown: true))
        #expect(RequestParser.parseRequestLine(Array("GET\r\n".utf8))
                == .error(code: 400, message: "Bad request syntax ('GET')", versionKnown: false))
        #expect(RequestParser.parseRequestLine(Array("GET / x HTTP/1.0\r\n".utf8))
                == .error(code: 400, message: "Bad request syntax ('GET / x HTTP/1.0')", versionKnown: true))
    }

    @Test func collapsesLeadingSlashes() {
        #expect(RequestParser.parseRequestLine(Array("GET //evil.example/x HTTP/1.0\r\n".utf8))
                == .request(command: "GET", path: "/evil.example/x", version: "HTTP/1.0", major: 1, minor: 0))
    }

    @Test func headerLines() {
        #expect(RequestParser.parseHeaderLine(Array("Host:  example \r\n".utf8)) == .field(name: "Host", value: "example"))
        #expect(RequestParser.parseHeaderLine(Array("\r\n".utf8)) == .end)
        #expect(RequestParser.parseHeaderLine(Array("\tmore\r\n".utf8)) == .continuation("more"))
        #expect(RequestParser.parseHeaderLine(Array("no colon\r\n".utf8)) == .malformed("no colon"))
        var headers = HTTPHeaders()
        headers.append(name: "Content-Length", value: "3")
        #expect(headers["content-length"] == "3")
        #expect(headers["Host"] == nil)
    }

    @Test func latin1RoundTrip() {
        let bytes: [UInt8] = [0x2F, 0xE9, 0xFF, 0x41]
        #expect(RequestParser.latin1Bytes(RequestParser.latin1(bytes)) == bytes)
    }

    /// A response head is built with `appendLatin1`: ASCII goes straight in, and a value with
    /// characters up to U+00FF is taken back out and written one byte per character.
    @Test func appendLatin1KeepsWhatIsThere() {
        var buffer: [UInt8] = Array("Name: ".utf8)
        RequestParser.appendLatin1("caf\u{E9} ok", to: &buffer)
        #expect(buffer == Array("Name: caf".utf8) + [0xE9] + Array(" ok".utf8))
        RequestParser.appendLatin1("/plain", to: &buffer)
        #expect(buffer.suffix(6) == Array("/plain".utf8)[...])
    }

    /// The common versions take a shortcut; the rest are read as Python reads them.
    @Test func versions() {
        for (text, expected) in [("HTTP/1.1", (1, 1)), ("HTTP/1.0", (1, 0)), ("HTTP/01.1", (1, 1)),
                                 ("HTTP/1.10", (1, 10)), ("HTTP/2.0", (2, 0))] {
            let version = RequestParser.parseVersion(text)
            #expect(version?.major == expected.0 && version?.minor == expected.1, "\(text)")
        }
        for text in ["HTTP/1.1 ", "http/1.1", "HTTP/1", "HTTP/1.1.1", "HTTP/+1.1", "HTTP/12345678901.1"] {
            #expect(RequestParser.parseVersion(text) == nil, "\(text)")
        }
    }

    @Test func pythonRepr() {
        #expect(RequestParser.pythonRepr("a'b") == "\"a'b\"")
        #expect(RequestParser.pythonRepr("x\u{1}") == "'x\\x01'")
    }
}
