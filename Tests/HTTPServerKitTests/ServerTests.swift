import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

/// The three `--mode`s: the suites that start a server run once in each.
enum ServerModes {
    static let all = ["iterative", "threads", "epoll"]
}

/// A served folder with the usual suspects, and the server on it.
final class Fixture {
    let folder: TempFolder
    let root: String
    let server: ToolProcess
    let port: Int

    init(_ extra: [String] = []) throws {
        folder = try TempFolder("http")
        root = folder.path + "/www"
        try folder.write("secret.txt", "TOP-SECRET-OUTSIDE\n")
        try folder.write("www/a.txt", "hello\n")
        try folder.write("www/page.html", "<p>page</p>\n")
        try folder.write("www/docs/index.html", "<h1>index.html</h1>\n")
        try folder.write("www/docs/index.htm", "<h1>index.htm</h1>\n")
        try folder.write("www/old/index.htm", "<h1>only htm</h1>\n")
        try folder.write("www/list/b.txt", "b")
        try folder.write("www/list/A <&> file.txt", "a")
        try folder.mkdir("www/list/Sub")
        try folder.symlink("www/list/link", to: "../a.txt")
        folder.writeRaw(name: Array("www/list/bad".utf8) + [0xFF] + Array(".txt".utf8), contents: "raw-bytes-name")
        try folder.symlink("www/escape.txt", to: folder.path + "/secret.txt")
        try folder.symlink("www/inside.txt", to: "a.txt")
        folder.setModified("www/a.txt", epoch: 1_000_000_000)
        (server, port) = try startServer(root, extra)
    }

    deinit {
        server.stop()
        folder.remove()
    }

    /// The stderr lines so far that contain `text` (waits, bounded, for one to arrive).
    func logLine(containing text: String) throws -> String {
        try server.waitForLine(containing: text, onStderr: true, timeout: 120)
    }
}

@Suite("HTTPServer files") struct FileServingTests {
    @Test(arguments: ServerModes.all) func bannerShowsRealPort(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let line = try f.server.waitForLine(containing: "Serving HTTP on")
        #expect(line == "Serving HTTP on 127.0.0.1 port \(f.port) (http://127.0.0.1:\(f.port)/) ...")
    }

    @Test(arguments: ServerModes.all) func getAndHeadOfAFile(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/a.txt")
        #expect(r.statusLine == "HTTP/1.0 200 OK")
        #expect(r.text == "hello\n")
        #expect(r.header("Content-type") == "text/plain")
        #expect(r.header("Content-Length") == "6")
        #expect(r.header("Last-Modified") == "Sun, 09 Sep 2001 01:46:40 GMT")
        #expect(r.header("Server")?.hasPrefix("SimpleHTTP/0.6") == true)
        #expect(r.header("Date")?.hasSuffix(" GMT") == true)
        let h = try fetch(f.port, "HEAD /a.txt HTTP/1.0\r\n\r\n", head: true)
        #expect(h.status == 200)
        #expect(h.header("Content-Length") == "6")
        let client = try WireClient(port: f.port)
        try client.send("HEAD /a.txt HTTP/1.0\r\n\r\n")
        let raw = String(decoding: try client.readToEnd(), as: UTF8.self)
        #expect(raw.hasSuffix("\r\n\r\n"))   // no body after the head
    }

    @Test(arguments: ServerModes.all) func folderRedirectKeepsQuery(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/list?x=1&y=2")
        #expect(r.statusLine == "HTTP/1.0 301 Moved Permanently")
        #expect(r.header("Location") == "/list/?x=1&y=2")
        #expect(r.header("Content-Length") == "0")
        let open = try get(f.port, "//evil.example/list")
        #expect(open.status == 404 || open.header("Location")?.hasPrefix("//") == false)
        try f.folder.mkdir("www/evil.example")
        let redirect = try get(f.port, "//evil.example")
        #expect(redirect.status == 301)
        #expect(redirect.header("Location") == "/evil.example/")
        // Backslash, a leading control character, a scheme: a browser would read each of these
        // Locations as another host; ours stay paths to the same folder here.
        for (target, expected) in [("/\\evil.example/../list", "/%5Cevil.example/../list/"),
                                   ("\u{1}//evil.example/../../list", "%01//evil.example/../../list/"),
                                   ("https:evil.example/../list", "https%3Aevil.example/../list/")] {
            let r = try fetch(f.port, "GET \(target) HTTP/1.0\r\n\r\n")
            #expect(r.status == 301, "\(target)")
            #expect(r.header("Location") == expected, "\(target)")
            let followed = try fetch(f.port, "GET /\(expected.drop { $0 == "/" }) HTTP/1.0\r\n\r\n")
            #expect(followed.status == 200 && followed.text.contains("Directory listing for"), "\(target)")
        }
    }

    @Test(arguments: ServerModes.all) func indexFiles(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        #expect(try get(f.port, "/docs/").text == "<h1>index.html</h1>\n")
        #expect(try get(f.port, "/docs/").header("Content-type") == "text/html")
        #expect(try get(f.port, "/old/").text == "<h1>only htm</h1>\n")
    }

    @Test(arguments: ServerModes.all) func listing(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/list/")
        #expect(r.status == 200)
        #expect(r.header("Content-type") == "text/html; charset=utf-8")
        #expect(r.header("Content-Length") == String(r.body.count))
        let page = r.text
        #expect(page.contains("<title>Directory listing for /list/</title>"))
        #expect(page.contains("<li><a href=\"A%20%3C%26%3E%20file.txt\">A &lt;&amp;&gt; file.txt</a></li>"))
        #expect(page.contains("<li><a href=\"Sub/\">Sub/</a></li>"))
        #expect(page.contains("<li><a href=\"link\">link@</a></li>"))
        #expect(page.contains("href=\"bad%FF.txt\""))
        #expect(r.body.indices.contains { r.body[$0...].starts(with: Array("bad".utf8) + [0xFF] + Array(".txt</a>".utf8)) })
        let order = ["A%20", "b.txt", "bad%FF", "link", "Sub/"].map { page.range(of: "href=\"\($0)")!.lowerBound }
        #expect(order == order.sorted())
        #expect(try get(f.port, "/list/bad%FF.txt").text == "raw-bytes-name")
        // Python's link for the same file (the byte as the surrogate U+DCFF) works too.
        #expect(try get(f.port, "/list/bad%ED%B3%BF.txt").text == "raw-bytes-name")
    }

    @Test(arguments: ServerModes.all) func conditionalRequests(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let later = "If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT"
        let r = try get(f.port, "/a.txt", headers: [later])
        #expect(r.status == 304)
        #expect(r.body.isEmpty)
        #expect(try get(f.port, "/a.txt", headers: ["If-Modified-Since: Sun, 09 Sep 2001 01:46:39 GMT"]).status == 200)
        #expect(try get(f.port, "/a.txt", headers: ["If-Modified-Since: not a date"]).status == 200)
        // A year near Int.max once trapped in the date arithmetic and took the server down.
        #expect(try get(f.port, "/a.txt", headers: ["If-Modified-Since: Wed, 25 Nov 9223372036854775807 00:00:00 GMT"]).status == 200)
        #expect(try get(f.port, "/a.txt").status == 200)
        #expect(try get(f.port, "/a.txt", headers: [later, "If-None-Match: \"nope\""]).status == 200)
        let etag = try #require(try get(f.port, "/a.txt").header("ETag"))
        #expect(try get(f.port, "/a.txt", headers: ["If-None-Match: \(etag)"]).status == 304)
        #expect(try get(f.port, "/a.txt", headers: ["If-None-Match: W/\(etag), \"x\""]).status == 304)
        // `*` matches any current file (RFC 9110, nginx); Python, without ETags, says 200.
        #expect(try get(f.port, "/a.txt", headers: [later, "If-None-Match: *"]).status == 304)
    }

    @Test(arguments: ServerModes.all) func notFoundAndTrailingSlash(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/missing.txt")
        #expect(r.statusLine == "HTTP/1.0 404 File not found")
        #expect(r.header("Content-Type") == "text/html;charset=utf-8")
        #expect(r.text.contains("<p>Message: File not found.</p>"))
        #expect(r.text.contains("<p>Error code explanation: 404 - Nothing matches the given URI.</p>"))
        #expect(try get(f.port, "/a.txt/").status == 404)
        _ = try f.logLine(containing: "code 404, message File not found")
        _ = try f.logLine(containing: "\"GET /missing.txt HTTP/1.0\" 404 -")
    }

    @Test(arguments: ServerModes.all) func rangesAndETag(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/a.txt", headers: ["Range: bytes=1-3"])
        #expect(r.statusLine == "HTTP/1.0 206 Partial Content")
        #expect(r.text == "ell")
        #expect(r.header("Content-Range") == "bytes 1-3/6")
        #expect(r.header("Content-Length") == "3")
        #expect(try get(f.port, "/a.txt", headers: ["Range: bytes=-2"]).text == "o\n")
        let bad = try get(f.port, "/a.txt", headers: ["Range: bytes=10-"])
        #expect(bad.status == 416)
        #expect(bad.header("Content-Range") == "bytes */6")
        let multi = try get(f.port, "/a.txt", headers: ["Range: bytes=0-1,3-4"])
        #expect(multi.status == 206)
        #expect(multi.header("Content-Type")?.hasPrefix("multipart/byteranges; boundary=") == true)
        #expect(multi.text.contains("Content-Range: bytes 0-1/6\r\n\r\nhe\r\n"))
        #expect(multi.text.contains("Content-Range: bytes 3-4/6\r\n\r\nlo\r\n"))
        #expect(multi.header("Content-Length") == String(multi.body.count))
        #expect(try get(f.port, "/a.txt", headers: ["Range: bytes=1-3", "If-Range: \"old\""]).status == 200)
        #expect(r.header("Accept-Ranges") == "bytes")
    }

    @Test(arguments: ServerModes.all) func symlinksOutsideRoot(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try get(f.port, "/escape.txt")
        #expect(r.status == 404)
        #expect(!r.text.contains("TOP-SECRET"))
        #expect(try get(f.port, "/inside.txt").text == "hello\n")
        let follow = try Fixture(["--follow-symlinks"])
        #expect(try get(follow.port, "/escape.txt").text == "TOP-SECRET-OUTSIDE\n")
    }

    @Test(arguments: ServerModes.all) func traversalNeverLeavesTheRoot(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let attempts = [
            "/../secret.txt", "/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
            "/%252e%252e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/list/../../secret.txt",
            "/./../secret.txt", "/....//secret.txt", "/..%5csecret.txt", "/%c0%ae%c0%ae/secret.txt",
            "..//secret.txt", "/" + f.folder.path + "/secret.txt", "/%2f..%2f..%2fsecret.txt",
            "/..;/secret.txt", "/list/%2e%2e/%2e%2e/secret.txt", "/%25252e%25252e/secret.txt",
        ]
        for path in attempts {
            let client = try WireClient(port: f.port)
            try client.send("GET \(path) HTTP/1.0\r\n\r\n")
            let raw = String(decoding: try client.readToEnd(), as: UTF8.self)
            #expect(!raw.contains("TOP-SECRET"), "\(path) leaked")
            #expect(raw.hasPrefix("HTTP/1.0 "), "\(path): \(raw.prefix(40))")
        }
    }

    @Test(arguments: ServerModes.all) func nulAndEncodedSlashAreRejected(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        #expect(try get(f.port, "/a.txt%00.html").status == 400)
        #expect(try get(f.port, "/list%2fb.txt").status == 400)
        let client = try WireClient(port: f.port)
        try client.send(bytes: Array("GET /a".utf8) + [0] + Array(".txt HTTP/1.0\r\n\r\n".utf8))
        #expect(try client.readResponse().status == 400)
    }
}

@Suite("HTTPServer protocol") struct ProtocolTests {
    @Test(arguments: ServerModes.all) func badRequestsAndVersions(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let badVersion = try fetch(f.port, "GET / FOO/1.0\r\n\r\n")
        #expect(badVersion.statusLine == "HTTP/1.0 400 Bad request version ('FOO/1.0')")
        let http2 = try fetch(f.port, "GET / HTTP/2.0\r\n\r\n")
        #expect(http2.status == 505)
        #expect(http2.text.contains("Invalid HTTP version (2.0)"))
        let syntax = try fetch(f.port, "GET / x HTTP/1.0\r\n\r\n")
        #expect(syntax.status == 400)
        let unknown = try fetch(f.port, "BREW /pot HTTP/1.0\r\n\r\n")
        #expect(unknown.statusLine == "HTTP/1.0 501 Unsupported method ('BREW')")
        #expect(try fetch(f.port, "POST /a.txt HTTP/1.0\r\nContent-Length: 0\r\n\r\n").status == 501)
    }

    @Test(arguments: ServerModes.all) func errorPageEscapesTheRequest(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let r = try fetch(f.port, "GET / <script>alert(1)</script>\r\n\r\n")
        #expect(r.status == 400)
        #expect(r.text.contains("<p>Message: Bad request version ('&lt;script&gt;alert(1)&lt;/script&gt;').</p>"))
        #expect(!r.text.contains("<script>"))
    }

    @Test func missingFolderIsOneLine() throws {
        let result = try runCommand("http-server", ["0", "-d", "/nonexistent/folder"])
        #expect(result.status == 1)
        #expect(result.stderr == ["http-server: cannot serve /nonexistent/folder: realpath() failed: ENOENT (No such file or directory)"])
    }

    /// Absurd option values are refused with a usage error, not a trap at the first request.
    @Test func absurdOptionValuesAreRefused() throws {
        for arguments in [["--timeout", "1e20"], ["--timeout", "inf"], ["--timeout", "0"],
                          ["--max-connections", "9000000000000"], ["--max-connections", "0"],
                          ["-p", "HTTP/2"]] {
            let result = try runCommand("http-server", ["0"] + arguments)
            #expect(result.status == 64, "\(arguments)")   // EX_USAGE, from swift-argument-parser
            #expect(result.stderr.first?.hasPrefix("Error: ") == true, "\(arguments)")
        }
    }

    @Test(arguments: ServerModes.all) func http09(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let client = try WireClient(port: f.port)
        try client.send("GET /a.txt\r\n")
        #expect(String(decoding: try client.readToEnd(), as: UTF8.self) == "hello\n")
    }

    @Test(arguments: ServerModes.all) func tooLongAndTooMany(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let longLine = try fetch(f.port, "GET /" + String(repeating: "a", count: 65537) + " HTTP/1.0\r\n\r\n")
        #expect(longLine.status == 414)
        let longHeader = try fetch(f.port, "GET / HTTP/1.0\r\nX-Big: " + String(repeating: "b", count: 65537) + "\r\n\r\n")
        #expect(longHeader.statusLine == "HTTP/1.0 431 Line too long")
        let many = try fetch(f.port, "GET / HTTP/1.0\r\n" + (0..<100).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        #expect(many.statusLine == "HTTP/1.0 431 Too many headers")
        let fine = try fetch(f.port, "GET /a.txt HTTP/1.0\r\n" + (0..<99).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        #expect(fine.status == 200)
        // Folded and colon-less lines count too (as in Python): endless continuation lines
        // must not grow one header without limit.
        let folded = try fetch(f.port, "GET / HTTP/1.0\r\nX: v\r\n" + String(repeating: " more\r\n", count: 99) + "\r\n")
        #expect(folded.statusLine == "HTTP/1.0 431 Too many headers")
        // A line without a colon is refused at once (RFC 9112 §5, as nginx does; Python skips it).
        let colonless = try fetch(f.port, "GET / HTTP/1.0\r\n" + String(repeating: "no colon here\r\n", count: 100) + "\r\n")
        #expect(colonless.statusLine == "HTTP/1.0 400 Bad header line (no colon)")
        let foldedFine = try fetch(f.port, "GET /a.txt HTTP/1.0\r\nX: v\r\n" + String(repeating: " more\r\n", count: 98) + "\r\n")
        #expect(foldedFine.status == 200)
        // Beyond Python: all header lines together stay under 256 KiB.
        func bulky(_ lines: Int) -> String {
            (0..<lines).map { "X-\($0): " + String(repeating: "v", count: 60_000) + "\r\n" }.joined()
        }
        let tooMuch = try fetch(f.port, "GET /a.txt HTTP/1.0\r\n" + bulky(5) + "\r\n")
        #expect(tooMuch.statusLine == "HTTP/1.0 431 Request Header Fields Too Large")
        #expect(try fetch(f.port, "GET /a.txt HTTP/1.0\r\n" + bulky(4) + "\r\n").status == 200)
    }

    @Test(arguments: ServerModes.all) func expectContinue(mode: String) throws {
        let f = try Fixture(["--mode", mode, "-p", "HTTP/1.1"])
        let client = try WireClient(port: f.port)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse()
        #expect(interim.statusLine == "HTTP/1.1 100 Continue")
        let final = try client.readResponse()
        #expect(final.status == 200)
        #expect(final.text == "hello\n")
    }

    @Test(arguments: ServerModes.all) func keepAliveWithHTTP11(mode: String) throws {
        let f = try Fixture(["--mode", mode, "-p", "HTTP/1.1"])
        let client = try WireClient(port: f.port)
        for _ in 0..<3 {
            try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try client.readResponse()
            #expect(r.statusLine == "HTTP/1.1 200 OK")
            #expect(r.text == "hello\n")
        }
        // Pipelined: two requests in one send, two responses in order.
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /page.html HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().text == "hello\n")
        #expect(try client.readResponse().text == "<p>page</p>\n")
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(client.isClosedByServer())
    }

    /// A keep-alive connection reuses the last file's ETag and Last-Modified only while the
    /// file's mtime and size are unchanged: a file rewritten between two requests gets new ones.
    @Test(arguments: ServerModes.all) func validatorsFollowAFileThatChanges(mode: String) throws {
        let f = try Fixture(["--mode", mode, "-p", "HTTP/1.1"])
        let client = try WireClient(port: f.port)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try client.readResponse()
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let again = try client.readResponse()
        #expect(again.header("ETag") == first.header("ETag") && again.header("Last-Modified") == first.header("Last-Modified"))
        try f.folder.write("www/a.txt", "hello, longer\n")
        f.folder.setModified("www/a.txt", epoch: 1_100_000_000)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let changed = try client.readResponse()
        #expect(changed.text == "hello, longer\n")
        #expect(changed.header("ETag") == "\"\(String(1_100_000_000, radix: 16))-e\"")
        #expect(changed.header("Last-Modified") == "Tue, 09 Nov 2004 11:33:20 GMT")
        #expect(first.header("Last-Modified") == "Sun, 09 Sep 2001 01:46:40 GMT")
    }

    @Test(arguments: ServerModes.all) func http10ClosesAfterEachResponse(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let client = try WireClient(port: f.port)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try client.readResponse()
        #expect(r.statusLine == "HTTP/1.0 200 OK")
        #expect(client.isClosedByServer())
    }

    @Test(arguments: ServerModes.all) func logLineLikePython(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        _ = try get(f.port, "/a.txt")
        let line = try f.logLine(containing: "\"GET /a.txt HTTP/1.0\"")
        #expect(line.range(of: #"^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4} \d\d:\d\d:\d\d\] "GET /a\.txt HTTP/1\.0" 200 -$"#,
                           options: .regularExpression) != nil)
        let client = try WireClient(port: f.port)
        try client.send(bytes: Array("GET /x\u{1b}[31m\\y HTTP/1.0\r\n\r\n".utf8))
        _ = try client.readToEnd()
        let escaped = try f.logLine(containing: "\"GET /x")
        #expect(escaped.contains(#"GET /x\x1b[31m\\y HTTP/1.0"#))
        #expect(!escaped.contains("\u{1b}"))
    }

    @Test func helloHandler() throws {
        let server = try ToolProcess("http-server", ["0", "--hello"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "Serving HTTP on")
        let r = try get(port, "/anything")
        #expect(r.text == "hello world")
        #expect(r.header("Content-Length") == "11")
        #expect(try fetch(port, "HEAD / HTTP/1.0\r\n\r\n").status == 501)
    }

    @Test(arguments: ServerModes.all) func keyboardInterruptExitsZero(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        f.server.signal(SIGINT)
        #expect(try f.server.waitForExit() == 0)
        #expect(f.server.stdout.last == "Keyboard interrupt received, exiting.")
    }

    @Test(arguments: ServerModes.all) func portInUseIsOneLine(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        let result = try runCommand("http-server", [String(f.port), "-d", f.root])
        #expect(result.status == 1)
        #expect(result.stderr == ["http-server: cannot listen on 127.0.0.1:\(f.port): bind() failed: EADDRINUSE (Address already in use)"])
    }

    @Test func dualStackBind() throws {
        let folder = try TempFolder("dual")
        defer { folder.remove() }
        try folder.write("x.txt", "x")
        let server = try ToolProcess("http-server", ["--bind", "::", "--port", "0", "-d", folder.path])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "Serving HTTP on")
        #expect(try server.waitForLine(containing: "Serving") == "Serving HTTP on :: port \(port) (http://[::]:\(port)/) ...")
        #expect(try get(port, "/x.txt").text == "x")   // IPv4 client on the IPv6 socket
        let v6 = try Socket.connected(host: "::1", port: port)
        try v6.sendAll(Array("GET /x.txt HTTP/1.0\r\n\r\n".utf8))
        #expect(try v6.recv(maxBytes: 1000).starts(with: Array("HTTP/1.0 200".utf8)))
        _ = try server.waitForLine(containing: "::ffff:127.0.0.1 - - [", onStderr: true)
    }
}

@Suite("HTTPServer capture") struct CaptureFileTests {
    /// captures/http-get.pcap is a real recording of curl fetching from http-server.
    @Test func recordedGetIsReadable() throws {
        let file = packageRoot.appendingPathComponent("captures/http-get.pcap").path
        let dump = try runCommand("/usr/bin/tcpdump", ["-nn", "-A", "-r", file])
        let text = dump.stdout.joined(separator: "\n")
        #expect(text.contains("GET /hello.txt HTTP/1.1"))
        #expect(text.contains("HTTP/1.0 200 OK"))
        #expect(text.contains("Server: SimpleHTTP/0.6"))
        #expect(text.contains("Hello from http-server!"))
    }
}

@Suite("HTTPServer symlinks") struct SymlinkTests {
    @Test(arguments: ServerModes.all) func absoluteLinkBackInsideIsServed(mode: String) throws {
        let f = try Fixture(["--mode", mode])
        try f.folder.symlink("www/absolute.txt", to: f.root + "/a.txt")
        try f.folder.symlink("www/linked-dir", to: f.folder.path)
        #expect(try get(f.port, "/absolute.txt").text == "hello\n")
        #expect(try get(f.port, "/linked-dir/secret.txt").status == 404)
        #expect(try get(f.port, "/linked-dir/www/a.txt").text == "hello\n")
    }

    /// Without openat2(2) (Linux before 5.6, an older container's seccomp profile) every file
    /// once answered 404. The server runs here under a seccomp filter that refuses openat2 with
    /// ENOSYS (a few lines of Python: prctl, then exec), and must still serve, and still refuse.
    @Test func servesWithoutOpenat2() throws {
        let folder = try TempFolder("noopenat2")
        defer { folder.remove() }
        try folder.write("secret.txt", "TOP-SECRET-OUTSIDE\n")
        try folder.write("www/a.txt", "hello\n")
        try folder.symlink("www/inside.txt", to: "a.txt")
        try folder.symlink("www/escape.txt", to: folder.path + "/secret.txt")
        try folder.write("noopenat2.py", """
            import ctypes, os, sys
            class Filter(ctypes.Structure):
                _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
            class Program(ctypes.Structure):
                _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]
            code = (Filter * 4)(Filter(0x20, 0, 0, 0),               # load the system call number
                                Filter(0x15, 0, 1, 437),             # openat2?
                                Filter(0x06, 0, 0, 0x00050000 | 38), # refuse: ENOSYS
                                Filter(0x06, 0, 0, 0x7FFF0000))      # allow the rest
            libc = ctypes.CDLL(None, use_errno=True)
            assert libc.prctl(38, 1, 0, 0, 0) == 0                   # PR_SET_NO_NEW_PRIVS
            assert libc.prctl(22, 2, ctypes.byref(Program(4, code)), 0, 0) == 0   # PR_SET_SECCOMP
            os.execv(sys.argv[1], sys.argv[1:])
            """)
        let server = try ToolProcess("http-server", ["0", "-d", folder.path + "/www"],
                                     prefix: ["python3", folder.path + "/noopenat2.py"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "Serving HTTP on")
        #expect(try get(port, "/a.txt").text == "hello\n")
        #expect(try get(port, "/inside.txt").text == "hello\n")
        #expect(try get(port, "/").status == 200)
        #expect(try get(port, "/escape.txt").status == 404)
        #expect(try get(port, "/../secret.txt").status == 404)
    }
}
