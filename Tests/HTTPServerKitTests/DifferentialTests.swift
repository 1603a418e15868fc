import Foundation
import Glibc
import Testing
import TestSupport

/// Ours and `python3 -m http.server` on the same folder, asked the same things: the status,
/// the body and the headers Python sends must match (Server, Date and our extra ETag and
/// Accept-Ranges aside).
@Suite("HTTPServer vs Python") struct DifferentialTests {
    @Test func sameAnswersAsPython() throws {
        let f = try Fixture()
        try f.folder.write("www/style.css", "body{}")
        try f.folder.write("www/data.json", "{}")
        try f.folder.write("www/noext", "x")
        try f.folder.write("www/archive.tar.gz", "gz")
        try f.folder.write("www/backup.tgz", "tgz")         // mimetypes' suffix_map: a tar file
        try f.folder.write("www/drawing.svgz", "svgz")
        try f.folder.write("www/app.js.BR", "br")           // encodings are case-sensitive
        try f.folder.write("www/caf\u{e9} menu.txt", "menu")
        try f.folder.mkdir("www/empty")
        // Python links a non-UTF-8 name as %ED%B3%BF (the byte as a UTF-8 surrogate); we link the
        // raw byte (%FF) and accept both. That case is tested on its own in FileServingTests.listing.
        let bad = Array((f.root + "/list/bad").utf8) + [0xFF] + Array(".txt".utf8) + [0]
        _ = bad.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { unlink($0.baseAddress!) } }
        let python = try ToolProcess("/usr/bin/env", ["python3", "-m", "http.server", "--bind", "127.0.0.1", "-d", f.root, "0"])
        defer { python.stop() }
        let pythonPort = try python.waitForPort(containing: "Serving HTTP on")

        let requests = [
            "GET / HTTP/1.0", "GET /a.txt HTTP/1.0", "HEAD /a.txt HTTP/1.0", "GET /page.html HTTP/1.0",
            "GET /style.css HTTP/1.0", "GET /data.json HTTP/1.0", "GET /noext HTTP/1.0", "GET /archive.tar.gz HTTP/1.0",
            "GET /caf%C3%A9%20menu.txt HTTP/1.0", "GET /list/ HTTP/1.0", "GET /list HTTP/1.0", "GET /list?q=1 HTTP/1.0",
            "GET /list/?q=%3Cx%3E HTTP/1.0", "GET /docs/ HTTP/1.0", "GET /old/ HTTP/1.0", "GET /empty/ HTTP/1.0",
            "GET /missing HTTP/1.0", "GET /a.txt/ HTTP/1.0", "GET /../a.txt HTTP/1.0", "GET /a.txt?x#y HTTP/1.0",
            "GET //list HTTP/1.0", "HEAD /list/ HTTP/1.0", "BREW / HTTP/1.0", "GET / x HTTP/1.0",
            "GET /inside.txt HTTP/1.0", "GET /%7Ea.txt HTTP/1.0",
            "GET /backup.tgz HTTP/1.0", "GET /drawing.svgz HTTP/1.0", "GET /app.js.BR HTTP/1.0",
            "GET a.txt HTTP/1.0", "GET list?hi=1 HTTP/1.0", "GET /?x=%bb HTTP/1.0", "GET /%zz HTTP/1.0",
            "GET /a.txt% HTTP/1.0", "GET /%C0%AE%C0%AE/secret.txt HTTP/1.0", "GET https://pypi.org/../../list HTTP/1.0",
            "GET /x\u{1b}[31m\\y\u{7f}\u{9b} HTTP/1.0", "GET /\"quoted\" HTTP/1.0", "GET /a\u{7}.txt HTTP/1.0",
        ]
        let conditional = [
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sun, 09 Sep 2001 01:46:39 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: garbage"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sun, 09 Sep 2001 01:46:40 -0800"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sunday, 09-Sep-01 01:46:40 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sat, 01 Jan 10000 00:00:00 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Sat, 30 Feb 2030 00:00:00 GMT"),
            ("GET /a.txt HTTP/1.0", "If-Modified-Since: Mon, 31 Dec 2029 23:59:60 GMT"),
            // Every header line counts toward Python's limit of 100, folded ones too. (A line
            // without a colon differs on purpose: Python skips it, we answer 400 as nginx does,
            // RFC 9112 §5; see FramingTests.)
            ("GET /a.txt HTTP/1.0", "X: v\r\n" + String(repeating: " folded\r\n", count: 98)),
            ("GET /a.txt HTTP/1.0", "X: v\r\n" + String(repeating: " folded\r\n", count: 99)),
        ]
        let all = requests.map { ($0, "") } + conditional
        let oursLogStart = f.server.stderr.count, pythonLogStart = python.stderr.count
        for (line, header) in all {
            let raw = line + "\r\n" + (header.isEmpty || header.hasSuffix("\n") ? header : header + "\r\n") + "\r\n"
            let isHead = line.hasPrefix("HEAD")
            let ours = try fetch(f.port, raw, head: isHead)
            let theirs = try fetch(pythonPort, raw, head: isHead)
            let what = "\(line) \(header.prefix(60))"
            #expect(ours.status == theirs.status, "\(what)")
            #expect(ours.statusLine == theirs.statusLine, "\(what)")
            #expect(ours.body == theirs.body, "\(what): ours \(ours.text.prefix(200)) | python \(theirs.text.prefix(200))")
            for name in ["Content-type", "Content-Length", "Last-Modified", "Location", "Connection"] {
                #expect(ours.header(name) == theirs.header(name), "\(what): \(name)")
            }
        }

        // The log: the same lines (`code 404, message ...`, `"GET ..." 200 -`, control
        // characters escaped), the time stamp aside. Each line is written before its response,
        // and requests go one at a time: once a last request's line has arrived from each
        // server, every earlier line has too (counting lines instead raced a late one).
        let sentinel = "GET /sentinel-of-the-log HTTP/1.0\r\n\r\n"
        _ = try fetch(f.port, sentinel, head: false)
        _ = try fetch(pythonPort, sentinel, head: false)
        try waitUntil("both logs have the last request's line", timeout: 120) {
            f.server.stderr.contains { $0.contains("/sentinel-of-the-log") } && python.stderr.contains { $0.contains("/sentinel-of-the-log") }
        }
        func withoutTime(_ line: String) -> String {
            line.replacingOccurrences(of: #"^(\S+ - - )\[[^\]]*\] "#, with: "$1", options: .regularExpression)
        }
        let oursLog = f.server.stderr.dropFirst(oursLogStart).filter { !$0.contains("/sentinel-of-the-log") }.map(withoutTime)
        let pythonLog = python.stderr.dropFirst(pythonLogStart).filter { !$0.contains("/sentinel-of-the-log") }.map(withoutTime)
        #expect(pythonLog.count > all.count)   // a line per request, and the error lines
        #expect(oursLog.count == pythonLog.count)
        for (mine, theirs) in zip(oursLog, pythonLog) {
            #expect(mine == theirs)
        }
    }
}
