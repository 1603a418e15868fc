import Foundation
import LiveView
import Testing
import TestSupport
import Timeline

/// The projector page in a real headless Chromium (Debian's chromium and chromium-driver, driven
/// by selenium from Tests/Browser/check_page.py), fed by Tests/Browser/fake_server.py, which
/// serves the page and the events exactly as `handshake-watch --serve` will: `/`, `/events`
/// (SSE), `/events.jsonl`. Screenshots and console logs are kept in .build/test-artifacts/.
/// `make test` installs the browser; `make demo` does not need it.
@Suite("projector page in Chromium", .serialized)
struct BrowserTests {
    static let browserDirectory = packageRoot.appendingPathComponent("Tests/Browser")
    static let python = "/usr/bin/python3"   // Debian's, with Debian's python3-selenium

    @Test("every capture replays without a JavaScript error: every event held once, every diagram drawn, to the end")
    func replayEveryCapture() throws {
        try Self.requireBrowser()
        let captures = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("captures").path)
            .filter { $0.hasSuffix(".pcap") }.sorted().map { "captures/\($0)" }
        #expect(captures.count >= 8)
        var events = 0, packets = 0, svgArrows: [String] = []
        for capture in captures {
            let json = try runCommand("handshake-watch", ["-r", capture, "--format", "json"], currentDirectory: packageRoot.path)
            #expect(json.status == 0, "\(capture): \(json.stderr)")
            events += json.stdout.count
            packets += json.stdout.filter { $0.hasPrefix(#"{"type":"packet""#) }.count
            svgArrows += Self.arrows(inSVG: SVGLadderWriter.svg(EventsFile.parse(json.stdout.joined(separator: "\n")).events))
        }
        let server = try Self.fakeServer(captures.flatMap { ["--pcap", $0] } + ["--end"])
        defer { server.stop() }
        let labels = Self.artifacts.appendingPathComponent("replay-captures.labels.txt")
        let pills = Self.artifacts.appendingPathComponent("replay-captures.pills.txt")
        try Self.check(server, artifact: "replay-captures",
                       ["--events", String(events), "--visit-all", "--labels", labels.path, "--pills", pills.path, "--ended"])
        // The timewait takeover is one pill, TIME_WAIT: never the full socket's CLOSE after FIN_WAIT2.
        let pillLines = try String(contentsOf: pills, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(pillLines.contains { $0.contains("client:FIN_WAIT2 client:TIME_WAIT") }, "\(pillLines)")
        #expect(!pillLines.contains { $0.contains("client:FIN_WAIT2 client:CLOSE") || $0.contains("server:FIN_WAIT2 server:CLOSE") },
                "\(pillLines)")
        // The page and the SVG writer compute relative numbers and captions each on their own: they agree.
        let pageArrows = try String(contentsOf: labels, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(svgArrows.count == packets)
        #expect(pageArrows == svgArrows)
    }

    /// `label<TAB>caption` of each arrow of an SVG ladder, from the `<title>` of its group.
    static func arrows(inSVG svg: String) -> [String] {
        let lines = svg.split(separator: "\n").map(String.init)
        return zip(lines, lines.dropFirst()).compactMap { group, title in
            guard group.hasPrefix("<g stroke="), title.hasPrefix("<title>") else { return nil }
            let text = title.dropFirst("<title>".count).dropLast("</title>".count)
            let unescaped = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")]
                .reduce(String(text)) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            guard let colon = unescaped.range(of: ": ") else { return nil }
            return unescaped[..<colon.lowerBound] + "\t" + unescaped[colon.upperBound...]
        }
    }

    @Test("live: SYN, SYN-ACK, ACK labelled in order; a dropped stream resumes with Last-Event-ID; a reset reloads; the keys work")
    func liveStream() throws {
        try Self.requireBrowser()
        let server = try Self.fakeServer(["--jsonl", "Tests/ProjectorViewTests/Fixtures/echo-lesson.jsonl", "--pace", "0.05"])
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        try Self.check(server, artifact: "live-stream", [
            "--handshake", "--drop", "\(base)/_test/drop", "--events", "33", "--reset", "\(base)/_test/reset", "--keyboard",
            "--source", "live",
        ])
        let resumes = server.process.stderr.filter { $0.hasSuffix("(Last-Event-ID)") }
        #expect(resumes.contains { !$0.hasPrefix("stream after 0 ") }, "\(server.process.stderr)")
        #expect(server.process.stderr.contains { $0.hasSuffix("(query)") }, "no stream after the reload: \(server.process.stderr)")
    }

    /// Each copy of echo-ipv4 holds 51 events: 10 packets, the connection, the stats and the 39
    /// events of its recorded sidecar.
    @Test("a class of 30: thirty connections listed, each event held once")
    func thirtyConnections() throws {
        try Self.requireBrowser()
        let server = try Self.fakeServer(["--pcap", "captures/echo-ipv4.pcap", "--repeat", "30", "--end"])
        defer { server.stop() }
        try Self.check(server, artifact: "thirty-connections", ["--connections", "30", "--events", "1860", "--ended"])
    }

    /// The page words each arrow from the server's table as the SVG does, the simultaneous
    /// close's variants included.
    @Test("a simultaneous close: the page's captions are the SVG's")
    func simultaneousClose() throws {
        try Self.requireBrowser()
        let fixture = "Tests/ProjectorViewTests/Fixtures/simultaneous-close.jsonl"
        let server = try Self.fakeServer(["--jsonl", fixture, "--end"])
        defer { server.stop() }
        let labels = Self.artifacts.appendingPathComponent("simultaneous-close.labels.txt")
        try Self.check(server, artifact: "simultaneous-close", ["--events", "7", "--visit-all", "--labels", labels.path, "--ended"])
        let page = try String(contentsOf: labels, encoding: .utf8).split(separator: "\n").map(String.init)
        let events = EventsFile.parse(try String(contentsOf: packageRoot.appendingPathComponent(fixture), encoding: .utf8)).events
        #expect(page == Self.arrows(inSVG: SVGLadderWriter.svg(events)))
        #expect(page.last?.hasSuffix("last ACK: both in TIME_WAIT") == true, "\(page)")
    }

    /// The findings' sentences are the server's wording table's (words.json), filled by the page
    /// from each JSON event's fields: for every packet with findings or SACK, the details panel
    /// must say what handshake-watch's text line says (capitalised, with a full stop).
    @Test("the details panel of a packet with findings (a retransmission...) shows the table's sentences, as the text line does")
    func findingSentences() throws {
        try Self.requireBrowser()
        // One connection each: the page's connection #N is the Nth file's.
        let captures = ["captures/lossy.pcap", "captures/deadlock.pcap", "captures/lost-segment-stream.pcap",
                        "captures/lost-syn-ack.pcap", "captures/keepalive.pcap", "captures/slow-reader.pcap"]
        var expected: [String] = []
        for (index, capture) in captures.enumerated() {
            let text = try runCommand("handshake-watch", ["-r", capture, "--format", "text", "--no-events"], currentDirectory: packageRoot.path)
            let json = try runCommand("handshake-watch", ["-r", capture, "--format", "json", "--no-events"], currentDirectory: packageRoot.path)
            #expect(text.status == 0 && json.status == 0, "\(capture): \(text.stderr) \(json.stderr)")
            let lines = text.stdout.filter { $0.contains("] seq ") }
            let packets = try json.stdout.filter { $0.hasPrefix(#"{"type":"packet""#) }
                .map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(lines.count == packets.count, "\(capture): \(lines.count) text lines, \(packets.count) packets")
            for (line, packet) in zip(lines, packets) {
                guard !((packet["analysis"] as? [Any]) ?? []).isEmpty || packet["sack"] != nil else { continue }
                // The explanation follows the segment's fields after two spaces.
                let explanation = try #require(line.range(of: "  ").map { String(line[$0.upperBound...]) })
                expected.append("#\(index + 1)\t" + explanation.prefix(1).uppercased() + explanation.dropFirst() + ".")
            }
        }
        let server = try Self.fakeServer(captures.flatMap { ["--pcap", $0] } + ["--end"])
        defer { server.stop() }
        let details = Self.artifacts.appendingPathComponent("finding-sentences.details.txt")
        try Self.check(server, artifact: "finding-sentences", ["--visit-all", "--details", details.path, "--ended"])
        // `#1<TAB>label: sentence`: the label is the arrow's (checked elsewhere), the sentence the words.
        let page = try String(contentsOf: details, encoding: .utf8).split(separator: "\n").map { line in
            let tab = line.firstIndex(of: "\t") ?? line.startIndex
            let sentence = line[tab...].range(of: ": ").map { line[$0.upperBound...] } ?? line[tab...]
            return String(line[..<tab]) + "\t" + sentence
        }
        // Connection by connection (the list's order may differ), each in its ladder's order.
        func byConnection(_ lines: [String]) -> [String] {
            let number = { (line: String) in Int(line.dropFirst().prefix { $0 != "\t" }) ?? 0 }
            return lines.enumerated().sorted { (number($0.element), $0.offset) < (number($1.element), $1.offset) }.map(\.element)
        }
        let (shown, printed) = (byConnection(page), byConnection(expected))
        #expect(shown.count == printed.count, "the page explained \(shown.count) packets with findings, the text \(printed.count)")
        if let (page, text) = zip(shown, printed).first(where: { $0 != $1 }) {
            Issue.record("the page and the text line differ:\n  page: \(page)\n  text: \(text)")
        }
        #expect(expected.contains { $0.contains("Retransmission of bytes") && $0.hasSuffix("(RTO: no ACK came in time).") })
    }

    @Test("events without the fields they need are skipped with a warning, not a JavaScript error")
    func badEvents() throws {
        try Self.requireBrowser()
        let server = try Self.fakeServer(["--jsonl", "Tests/ProjectorViewTests/Fixtures/bad-events.jsonl", "--end"])
        defer { server.stop() }
        try Self.check(server, artifact: "bad-events", ["--events", "3", "--visit-all", "--ended"])
    }

    // MARK: - Helpers

    struct Server {
        let process: ToolProcess
        let port: Int
        func stop() { process.stop() }
    }

    static func fakeServer(_ arguments: [String]) throws -> Server {
        let process = try ToolProcess(python, [browserDirectory.appendingPathComponent("fake_server.py").path, "--port", "0",
                                               "--binary", ToolProcess.path(of: "handshake-watch")] + arguments,
                                      currentDirectory: packageRoot.path)
        do {
            return Server(process: process, port: try process.waitForPort(containing: "serving on", onStderr: true, timeout: 60))
        } catch {
            process.stop()   // a server that never said where it listens must not outlive the test
            throw error
        }
    }

    /// Runs check_page.py against the server's page; its one-line failures become the test's.
    static let artifacts = packageRoot.appendingPathComponent(".build/test-artifacts/projector-view")

    static func check(_ server: Server, artifact: String, _ arguments: [String]) throws {
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let run = try runCommand(python, [
            browserDirectory.appendingPathComponent("check_page.py").path, "http://127.0.0.1:\(server.port)/",
            "--screenshot", artifacts.appendingPathComponent("\(artifact).png").path,
            "--console-log", artifacts.appendingPathComponent("\(artifact).console.jsonl").path,
            "--timeout", "120",
        ] + arguments, timeout: 400)
        #expect(run.status == 0, "\(artifact): \(run.stderr.joined(separator: "\n"))")
    }

    /// The browser and its driver are test-only packages: say how to get them instead of skipping.
    static func requireBrowser() throws {
        let missing = ["/usr/bin/chromium", "/usr/bin/chromedriver", python].filter { !FileManager.default.fileExists(atPath: $0) }
        let selenium = try runCommand(python, ["-c", "import selenium"])
        if !missing.isEmpty || selenium.status != 0 {
            let why = "the browser test needs chromium, chromium-driver and python3-selenium (missing: \(missing), "
                + "selenium import status \(selenium.status)); `make test` installs them with scripts/setup"
            Issue.record(Comment(rawValue: why))
            throw CancellationError()
        }
    }
}
