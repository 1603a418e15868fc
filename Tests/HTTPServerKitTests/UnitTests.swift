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

@Suite("translatePath") struct TranslatePathTests {
    func translate(_ path: String) -> String {
        String(decoding: FileRequestHandler.translate(path: Array(path.utf8), root: Array("/srv".utf8)), as: UTF8.self)
    }

    @Test func dropsQueryFragmentAndDecodesOnce() {
        #expect(translate("/a/b.txt?x=1#y") == "/srv/a/b.txt")
        #expect(translate("/a%20b") == "/srv/a b")
        #expect(translate("/%252e%252e/x") == "/srv/%2e%2e/x")   // decoded once only
    }

    @Test func traversalStaysInside() {
        #expect(translate("/../../etc/passwd") == "/srv/etc/passwd")
        #expect(translate("/%2e%2e/%2e%2e/etc/passwd") == "/srv/etc/passwd")
        #expect(translate("/a/../../b") == "/srv/b")
        #expect(translate("//a//./b/") == "/srv/a/b/")
        #expect(translate("/") == "/srv/")
        #expect(translate("") == "/srv")
    }

    @Test func keepsRawBytes() {
        let result = FileRequestHandler.translate(path: Array("/caf%E9".utf8), root: Array("/r".utf8))
        #expect(result == Array("/r/caf".utf8) + [0xE9])
    }

    @Test func forbiddenBytes() {
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%00b".utf8)))
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%2fb".utf8)))
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%2Fb".utf8)))
        #expect(!PercentEncoding.hasForbiddenBytes(Array("/a%20b/c".utf8)))
    }

    /// Python's link form of a non-UTF-8 byte (U+DC80...U+DCFF in UTF-8) back to the byte.
    @Test func surrogateEscapesUndone() {
        #expect(FileRequestHandler.undoingSurrogateEscapes(Array("/caf".utf8) + [0xED, 0xB3, 0xA9] + Array(".txt".utf8))
                == Array("/caf".utf8) + [0xE9] + Array(".txt".utf8))
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0xB2, 0x80, 0xED, 0xB3, 0xBF]) == [0x80, 0xFF])
        #expect(FileRequestHandler.undoingSurrogateEscapes(Array("/plain/caf\u{e9}".utf8)) == nil)   // valid UTF-8: nothing to undo
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0xB3]) == nil)                     // cut short
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0x9F, 0xBF]) == nil)               // U+D7FF, not a surrogate
    }

    @Test func redirectLocation() {
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d?x=1".utf8)), as: UTF8.self) == "/d/?x=1")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d?".utf8)), as: UTF8.self) == "/d/")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d#f".utf8)), as: UTF8.self) == "/d/#f")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("d?hi=1".utf8)), as: UTF8.self) == "d/?hi=1")
    }

    /// What a browser would turn into another host stays a path on this one.
    @Test func redirectLocationIsNeverAnotherHost() {
        func location(_ target: [UInt8]) -> String {
            String(decoding: FileRequestHandler.slashedLocation(target), as: UTF8.self)
        }
        #expect(location(Array("/\\evil.example/../d".utf8)) == "/%5Cevil.example/../d/")
        #expect(location(Array("\\\\evil.example/../../d".utf8)) == "%5C%5Cevil.example/../../d/")
        #expect(location([0x01] + Array("//evil.example/../../d".utf8)) == "%01//evil.example/../../d/")
        #expect(location(Array("https:evil.example/../d".utf8)) == "https%3Aevil.example/../d/")
        #expect(location(Array("https:/\\evil.example/../d".utf8)) == "https%3A/%5Cevil.example/../d/")
        #expect(location(Array("https://pypi.org/d".utf8)) == "https://pypi.org/d/")   // absolute form, as CPython's test wants
        #expect(location(Array("/a:b/d?q=\\".utf8)) == "/a:b/d/?q=\\")   // a colon after the first slash, the query: as sent
    }
}

@Suite("Listing") struct ListingTests {
    func entry(_ name: [UInt8], dir: Bool = false, link: Bool = false) -> FileSystem.Entry {
        FileSystem.Entry(name: name, isDirectory: dir, isSymbolicLink: link)
    }

    @Test func escapesAndQuotes() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("<b>&\"x\".txt".utf8))],
                                                          requestPath: Array("/<d>/".utf8)), as: UTF8.self)
        #expect(page.contains("<title>Directory listing for /&lt;d&gt;/</title>"))
        #expect(page.contains("<li><a href=\"%3Cb%3E%26%22x%22.txt\">&lt;b&gt;&amp;\"x\".txt</a></li>"))
    }

    @Test func foldersAndLinks() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("d".utf8), dir: true),
                                                                    entry(Array("l".utf8), dir: true, link: true),
                                                                    entry(Array("f".utf8), link: true)],
                                                          requestPath: Array("/".utf8)), as: UTF8.self)
        #expect(page.contains("<li><a href=\"d/\">d/</a></li>"))
        #expect(page.contains("<li><a href=\"l/\">l@</a></li>"))
        #expect(page.contains("<li><a href=\"f\">f@</a></li>"))
    }

    @Test func rawBytesNames() {
        let page = DirectoryListing.html(entries: [entry([0x61, 0xFF])], requestPath: Array("/".utf8))
        #expect(String(decoding: page, as: UTF8.self).contains("href=\"a%FF\""))
        let marker = Array(">".utf8) + [0x61, 0xFF] + Array("</a>".utf8)
        #expect(page.indices.contains { page[$0...].starts(with: marker) })
    }

    @Test func sortsCaseInsensitively() {
        let names = ["b", "A", "a", "C", "é", "E"].map { Array($0.utf8) }
        let sorted = DirectoryListing.sortedForListing(names.map { entry($0) }).map { String(decoding: $0.name, as: UTF8.self) }
        #expect(sorted == ["A", "a", "b", "C", "E", "é"])
    }

    @Test func sortsASCIINamesLikeTheGeneralPath() {
        let names = ["b", "A", "a", "C", "_x", "Ab", "ab", "a.txt"].map { Array($0.utf8) }
        let sorted = DirectoryListing.sortedForListing(names.map { entry($0) }).map { String(decoding: $0.name, as: UTF8.self) }
        #expect(sorted == ["_x", "A", "a", "a.txt", "Ab", "ab", "b", "C"])   // Python: sorted(names, key=str.lower)
    }

    @Test func exactPythonPage() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("a.txt".utf8))], requestPath: Array("/".utf8)), as: UTF8.self)
        #expect(page == """
            <!DOCTYPE HTML>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>Directory listing for /</title>
            </head>
            <body>
            <h1>Directory listing for /</h1>
            <hr>
            <ul>
            <li><a href="a.txt">a.txt</a></li>
            </ul>
            <hr>
            </body>
            </html>

            """)
    }
}

@Suite("MIME") struct MIMETests {
    let table = MIMETypes(loadingFile: nil)

    @Test func builtInAndHandlerMap() {
        #expect(table.guess(Array("/x/index.html".utf8)) == "text/html")
        #expect(table.guess(Array("/x/A.PNG".utf8)) == "image/png")
        #expect(table.guess(Array("/x/a.tar.gz".utf8)) == "application/gzip")
        #expect(table.guess(Array("/x/app.js.br".utf8)) == "text/javascript")
        #expect(table.guess(Array("/x/.bashrc".utf8)) == "application/octet-stream")
        #expect(table.guess(Array("/x/noext".utf8)) == "application/octet-stream")
    }

    /// mimetypes' suffix_map comes before any table (`.tgz` is `.tar.gz`, so a tar file even
    /// though /etc/mime.types says x-gtar-compressed), and its encodings are case-sensitive.
    @Test func suffixMapAndEncodingsLikePython() throws {
        let folder = try TempFolder("mime")
        defer { folder.remove() }
        try folder.write("mime.types", "application/x-gtar-compressed tgz taz\n")
        let loaded = MIMETypes(loadingFile: folder.path + "/mime.types")
        #expect(loaded.guess(Array("a.tgz".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.TGZ".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.svgz".utf8)) == "image/svg+xml")
        #expect(loaded.guess(Array("a.txz".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.js.BR".utf8)) == "application/octet-stream")
        #expect(loaded.guess(Array("a.js.br".utf8)) == "text/javascript")
        #expect(loaded.guess([0x61, 0x2E, 0xE9, 0x2E, 0x67, 0x7A]) == "application/gzip")   // a.<0xE9>.gz
        #expect(loaded.guess([0x61, 0x2E, 0xE9, 0x2E, 0x62, 0x72]) == "application/octet-stream")   // a.<0xE9>.br
    }

    @Test func systemFileOverrides() throws {
        let folder = try TempFolder("mime")
        defer { folder.remove() }
        try folder.write("mime.types", "# comment\ntext/x-test\ttst  tst2\napplication/x-other js\n")
        let loaded = MIMETypes(loadingFile: folder.path + "/mime.types")
        #expect(loaded.guess(Array("a.tst2".utf8)) == "text/x-test")
        #expect(loaded.guess(Array("a.js".utf8)) == "application/x-other")
    }
}

@Suite("HTTPDate") struct HTTPDateTests {
    @Test func formats() {
        #expect(HTTPDate.string(from: 784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.string(from: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func parsesTheThreeForms() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784111777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 +0000") == 784111777)
    }

    @Test func rejectsMalformedAndOtherZones() {
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 +0200") == nil)
    }

    /// Years, days and seconds Python's `datetime` refuses are not dates (the header is then
    /// ignored); a year near Int.max once overflowed the day arithmetic and killed the server.
    @Test func rejectsWhatPythonsDatetimeRejects() {
        #expect(HTTPDate.parse("Wed, 25 Nov 9223372036854775807 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 10000 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 0 00:00:00 GMT") == 975_110_400)   // year 0 means 2000, as in Python
        #expect(HTTPDate.parse("Sat, 30 Feb 2019 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == 1_709_164_800)
        #expect(HTTPDate.parse("Thu, 29 Feb 2100 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 31 Apr 2019 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 2026 23:59:60 GMT") == nil)
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
    }

    /// Local time, as Python's `log_date_time_string`: checked against strftime(3) in the C
    /// locale (English month names), for two times whatever the machine's time zone.
    @Test func logFormat() {
        #expect(HTTPDate.logString(from: 784111777).count == "06/Nov/1994 08:49:37".count)
        for seconds in [784111777, 1_764_547_205] {
            var t = time_t(seconds)
            var parts = tm()
            localtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            strftime(&buffer, buffer.count, "%d/%b/%Y %H:%M:%S", &parts)
            #expect(HTTPDate.logString(from: seconds) == String(cString: buffer))
        }
    }
}

@Suite("ByteRange") struct ByteRangeTests {
    @Test func forms() {
        #expect(ByteRange.parse("bytes=0-499", size: 1000) == .satisfiable(0...499))
        #expect(ByteRange.parse("bytes=500-", size: 1000) == .satisfiable(500...999))
        #expect(ByteRange.parse("bytes=-100", size: 1000) == .satisfiable(900...999))
        #expect(ByteRange.parse("bytes=-5000", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=-99999999999999999999", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-0", size: 1000) == .satisfiable(0...0))
        #expect(ByteRange.parse("bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-5000", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,5-6", size: 1000) == .ignored)
        #expect(ByteRange.parse("items=0-1", size: 1000) == .ignored)
        #expect(ByteRange.parse("bytes=5-1", size: 1000) == .ignored)
    }
}

@Suite("Escaping") struct EscapingTests {
    @Test func html() {
        #expect(HTMLEscaping.escape("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;")
    }

    @Test func percent() {
        var out: [UInt8] = []
        PercentEncoding.encode(Array("a b/é~".utf8), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a%20b/%C3%A9~")
        #expect(PercentEncoding.decode(Array("%41%zz%4".utf8)) == Array("A%zz%4".utf8))
    }

    @Test func errorPageEscapes() {
        let page = RequestHandler.errorPage(code: 400, message: "Bad <x>", explain: "e&")
        #expect(page.contains("<p>Message: Bad &lt;x&gt;.</p>"))
        #expect(page.contains("<p>Error code explanation: 400 - e&amp;.</p>"))
    }
}

@Suite("ParkedConnections") struct ParkedConnectionsTests {
    func connection() throws -> Connection {
        let socket = try Socket(family: AF_INET)
        return Connection(socket: socket, handler: RequestHandler(socket: socket, clientAddress: "-"))
    }

    @Test func oldestFirstPerStageAndTakeUnlinks() throws {
        let parked = ParkedConnections()
        let a = try connection(), b = try connection(), c = try connection()
        parked.park(a, stage: .waiting, now: 1)
        parked.park(b, stage: .waiting, now: 2)
        parked.park(c, stage: .reading, now: 3)
        #expect(parked.oldest(in: .waiting)?.fd == a.descriptor)
        #expect(parked.oldest(in: .reading)?.fd == c.descriptor)
        #expect(parked.take(a.descriptor) === a)
        #expect(parked.oldest(in: .waiting)?.fd == b.descriptor)
        #expect(parked.oldest(in: .waiting)?.since == 2)
        parked.take(b.descriptor)
        #expect(parked.oldest(in: .waiting) == nil)
        #expect(parked.count == 1)
        #expect(parked.take(a.descriptor) == nil)   // already taken
    }

    @Test func takingFromTheMiddleKeepsTheOrder() throws {
        let parked = ParkedConnections()
        let list = try (0..<5).map { _ in try connection() }
        for (index, item) in list.enumerated() { parked.park(item, stage: .waiting, now: UInt64(index)) }
        parked.take(list[2].descriptor)
        parked.take(list[0].descriptor)
        var order: [Int32] = []
        while let (fd, _, _) = parked.oldest(in: .waiting) { order.append(fd); parked.take(fd) }
        #expect(order == [list[1], list[3], list[4]].map(\.descriptor))
    }

    @Test func aBorrowedConnectionKeepsItsPlaceAndIsMarkedBusy() throws {
        let parked = ParkedConnections()
        let a = try connection(), b = try connection()
        parked.park(a, stage: .waiting, now: 1)
        parked.park(b, stage: .waiting, now: 2)
        #expect(parked.borrow(a.descriptor)?.connection === a)
        #expect(parked.borrow(a.descriptor) == nil)   // one worker at a time
        #expect(parked.oldest(in: .waiting)?.busy == true)
        parked.giveBack(a.descriptor)
        #expect(parked.oldest(in: .waiting)?.fd == a.descriptor)
        #expect(parked.oldest(in: .waiting)?.busy == false)
    }
}

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

@Suite("ByteRangeSelection") struct ByteRangeSelectionTests {
    @Test func severalRangesFollowNginx() {
        #expect(ByteRangeSelection.parse("bytes=0-9,20-29", size: 100) == .ranges([0..<10, 20..<30]))
        #expect(ByteRangeSelection.parse("bytes=0-9, -5", size: 100) == .ranges([0..<10, 95..<100]))
        #expect(ByteRangeSelection.parse("bytes=0-9,200-300", size: 100) == .ranges([0..<10]))   // past the end: dropped
        #expect(ByteRangeSelection.parse("bytes=200-300,400-", size: 100) == .unsatisfiable)
        #expect(ByteRangeSelection.parse("bytes=0-9,x", size: 100) == .unsatisfiable)
        #expect(ByteRangeSelection.parse("bytes=0-99,0-99", size: 100) == .whole)   // more than the file
        #expect(ByteRangeSelection.parse("bytes=0-59,50-99", size: 100) == .whole)
        #expect(ByteRangeSelection.parse("bytes=0-9,5-14", size: 100) == .ranges([0..<10, 5..<15]))
        #expect(ByteRangeSelection.parse("items=0-9,20-29", size: 100) == .whole)
    }
}
