import SocketCore
import Foundation
import LiveView
import Testing
import TestSupport
import Timeline

/// The standalone SVG ladder: golden files (what a teacher puts on a slide) and well-formed XML.
/// `UPDATE_GOLDEN=1 swift test --filter SVGLadderWriter` rewrites the golden files; look at them
/// (a browser, Inkscape) before committing.
@Suite("SVG ladder writer")
struct SVGLadderWriterTests {
    @Test("each fixture's SVG is its golden file, byte for byte", arguments: [
        "echo-lesson", "refused", "syn-backlog", "linger-reset", "half-close", "echo-ipv6",
    ])
    func golden(_ name: String) throws {
        let svg = SVGLadderWriter.svg(try Self.timeline("\(name).jsonl"))
        let golden = Self.fixture("\(name).svg")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try svg.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(svg == expected, "\(name).svg differs from the golden file (UPDATE_GOLDEN=1 rewrites it)")
        try expectWellFormed(svg, name)
    }

    @Test("every capture in captures/ gives well-formed SVG with an arrow per packet")
    func everyCapture() throws {
        let captures = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("captures").path)
            .filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(captures.count >= 8)
        for capture in captures {
            let run = try runCommand("handshake-watch", ["-r", "captures/\(capture)", "--format", "json"],
                                     currentDirectory: packageRoot.path)
            #expect(run.status == 0, "\(capture): \(run.stderr)")
            let events = EventsFile.parse(run.stdout.joined(separator: "\n")).events
            let svg = SVGLadderWriter.svg(events)
            let packets = events.filter { $0.type == "packet" }.count
            #expect(svg.components(separatedBy: "<polygon ").count - 1 == packets, "\(capture)")
            try expectWellFormed(svg, capture)
        }
    }

    @Test("handshake-watch -r X --format svg writes the same file, exit 0, stats on stderr", arguments: [
        "refused", "syn-backlog", "linger-reset", "half-close", "echo-ipv6",
    ])
    func commandLine(_ name: String) throws {
        let run = try runCommand("handshake-watch", ["-r", "captures/\(name).pcap", "--format", "svg"],
                                 currentDirectory: packageRoot.path)
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try String(contentsOf: Self.fixture("\(name).svg"), encoding: .utf8)
        #expect(run.stdout.joined(separator: "\n") + "\n" == expected)
        #expect(run.stderr.contains { $0.hasSuffix("packets captured") }, "\(run.stderr)")
    }

    @Test("the connect() bar contains the SYN and the ACK; states sit beside their end")
    func connectContainsHandshake() throws {
        let svg = SVGLadderWriter.svg(try Self.timeline("echo-lesson.jsonl"))
        let lines = svg.split(separator: "\n").map(String.init)
        func y(of marker: String) -> Int? {
            guard let line = lines.first(where: { $0.contains(marker) }),
                  let range = line.range(of: " y=\"") ?? line.range(of: " y1=\"") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        let connectTitle = try #require(lines.firstIndex { $0.contains("connect(fd 3") })
        let bar = lines[connectTitle + 1]
        let top = try #require(Int(bar.components(separatedBy: " y=\"")[1].prefix { $0.isNumber }))
        let height = try #require(Int(bar.components(separatedBy: "height=\"")[1].prefix { $0.isNumber }))
        let syn = try #require(y(of: ">SYN seq 0<")), ack = try #require(y(of: ">ACK seq 1 ack 1<"))
        #expect(top < syn && ack < top + height, "connect() from \(top) to \(top + height), SYN at \(syn), ACK at \(ack)")
        #expect(svg.contains(">SYN_SENT<") && svg.contains(">TIME_WAIT<") && svg.contains(">LAST_ACK<"))
        #expect(svg.contains("#1 · SF · closed"))
    }

    @Test("text from a trace line is escaped: markup, quotes and control characters")
    func escaping() throws {
        let client = SocketAddress(ip: "127.0.0.1", port: 40000)!
        let server = SocketAddress(ip: "127.0.0.1", port: 5000)!
        let events: [LadderEvent] = [
            .syscall(.init(time: 9.9999, duration: 0.0002, label: "client <\"&'>", pid: 7, call: "connect",
                           text: "connect(fd 3, \u{1}<&>) -> 0")),
            .packet(.init(time: 10, source: client, destination: server, flags: ["SYN"], sequence: 4_294_967_295,
                          acknowledgement: 0, length: 0, connection: 1, step: "handshake-syn")),
        ]
        let svg = SVGLadderWriter.svg(ladderEvents: events)
        #expect(svg.contains("client &lt;&quot;&amp;&apos;&gt; pid 7: connect(fd 3, \u{FFFD}&lt;&amp;&gt;) -&gt; 0"))
        #expect(svg.contains(">SYN seq 0<"))
        try expectWellFormed(svg, "escaping")
    }

    @Test("no events: a valid SVG that says so")
    func empty() throws {
        let svg = SVGLadderWriter.svg([TimelineEvent]())
        #expect(svg.contains(">no connection<"))
        try expectWellFormed(svg, "empty")
    }

    @Test("one connection of many")
    func oneConnection() throws {
        let events = try Self.timeline("syn-backlog.jsonl")
        let svg = SVGLadderWriter.svg(events, connection: 2)
        #expect(svg.contains(">#2") && !svg.contains(">#1") && !svg.contains(">#3"))
        try expectWellFormed(svg, "connection 2")
    }

    @Test("a packet missing a field, or with numbers out of range, is skipped, not drawn wrong")
    func badEvents() throws {
        let lines = [
            #"{"type":"packet","time":1.000000,"src":"127.0.0.1","sport":40000,"dst":"127.0.0.1","dport":5000,"flags":["SYN"],"seq":-1,"ack":0,"len":0,"conn":1,"step":"handshake-syn"}"#,
            #"{"type":"packet","time":1.000000,"src":"127.0.0.1","sport":40000,"dst":"127.0.0.1","dport":5000,"flags":["SYN"],"seq":4294967296,"ack":0,"len":0,"conn":1,"step":"handshake-syn"}"#,
            #"{"type":"packet","time":1.000000,"src":"127.0.0.1","sport":40000,"flags":["SYN"],"seq":1,"ack":0,"len":0,"conn":1,"step":"handshake-syn"}"#,
            #"{"type":"syscall","time":1.000000,"duration":0.1,"label":"x"}"#,
            #"{"type":"counter","time":1.000000,"name":"ListenOverflows","delta":1,"total":17}"#,
        ]
        let events = EventsFile.parse(lines.joined(separator: "\n")).events
        #expect(events.count == 5)
        #expect(events.compactMap(LadderEvent.init).isEmpty)
        #expect(SVGLadderWriter.svg(events).contains(">no connection<"))
    }

    /// The pills of the client's end: FIN_WAIT2 → CLOSE of the full socket and sock_diag's
    /// TIME_WAIT of the timewait socket are one pill, TIME_WAIT; after a RST, CLOSE stays CLOSE.
    @Test("the timewait takeover is one pill, TIME_WAIT; a reset socket's CLOSE stays")
    func timeWaitTakeoverIsOnePill() throws {
        func state(_ time: String, _ port: Int, _ from: String, _ to: String, _ source: String) -> String {
            #"{"type":"state","time":\#(time),"local":"127.0.0.1","lport":\#(port),"remote":"127.0.0.1","rport":5000,"from":"\#(from)","to":"\#(to)","source":"\#(source)"}"#
        }
        func syn(_ port: Int, _ conn: Int) -> String {
            #"{"type":"packet","time":1.0,"src":"127.0.0.1","sport":\#(port),"dst":"127.0.0.1","dport":5000,"flags":["SYN"],"seq":1,"ack":0,"len":0,"conn":\#(conn),"step":"handshake-syn"}"#
        }
        let closed = [syn(40000, 1), state("1.1", 40000, "FIN_WAIT1", "FIN_WAIT2", "tracepoint"),
                      state("1.2", 40000, "FIN_WAIT2", "CLOSE", "tracepoint"), state("1.3", 40000, "FIN_WAIT2", "TIME_WAIT", "sock_diag")]
        let svg = SVGLadderWriter.svg(EventsFile.parse(closed.joined(separator: "\n")).events)
        let pills = svg.split(separator: "\n").filter { $0.contains("fill=\"#1f2937\">") }.map { $0.split(separator: ">")[1].prefix { $0 != "<" } }
        #expect(pills == ["FIN_WAIT2", "TIME_WAIT"], "\(pills)")

        let reset = [syn(40001, 1), #"{"type":"reset-received","time":1.15,"local":"127.0.0.1","lport":40001,"remote":"127.0.0.1","rport":5000}"#,
                     state("1.2", 40001, "FIN_WAIT2", "CLOSE", "tracepoint")]
        let aborted = SVGLadderWriter.svg(EventsFile.parse(reset.joined(separator: "\n")).events)
        #expect(aborted.contains(">CLOSE<") && !aborted.contains(">TIME_WAIT<"))
    }

    /// The terminal ladder and the SVG take their captions, the analysis's findings included,
    /// from one wording table (StepWording): without the recorded calls (which only the
    /// terminal reads) they say the same words. (syn-backlog is left out: the terminal ladder
    /// interleaves its connections, the SVG draws them one after the other.)
    @Test("the terminal ladder and the SVG caption every arrow with the same words", arguments: [
        "echo-ipv4", "echo-ipv6", "half-close", "http-get", "refused", "linger-reset", "own-c", "own-python",
        "lossy", "lost-segment", "lost-segment-stream", "deadlock", "slow-reader", "keepalive", "accept-delay", "lost-syn-ack",
    ])
    func ladderAndSVGAgree(_ capture: String) throws {
        let path = "captures/\(capture).pcap"
        let ladder = try runCommand("handshake-watch", ["-r", path, "--no-events", "--format", "ladder", "--width", "400"],
                                    currentDirectory: packageRoot.path)
        let terminal = ladder.stdout.filter { $0.contains("|-- ") || $0.contains("|<-- ") }
            .compactMap { line in line.range(of: "| ", options: .backwards).map { String(line[$0.upperBound...]) } }
        let json = try runCommand("handshake-watch", ["-r", path, "--no-events", "--format", "json"], currentDirectory: packageRoot.path)
        let svg = BrowserTests.arrows(inSVG: SVGLadderWriter.svg(EventsFile.parse(json.stdout.joined(separator: "\n")).events))
            .map { String($0.split(separator: "\t", maxSplits: 1).last ?? "") }
        #expect(!terminal.isEmpty && terminal == svg, "\(capture)\nladder: \(terminal)\nsvg:    \(svg)")
    }

    /// Crossed FINs (hand-built: no capture has one): the second FIN, the ACKs and the last ACK
    /// take the table's `fins-crossed` and `both` variants, as the terminal's lines do.
    @Test("a simultaneous close: FINs crossed, both in TIME_WAIT")
    func simultaneousClose() throws {
        let captions = BrowserTests.arrows(inSVG: SVGLadderWriter.svg(try Self.timeline("simultaneous-close.jsonl")))
            .map { String($0.split(separator: "\t", maxSplits: 1).last ?? "") }
        #expect(captions.suffix(4) == [
            "client close() or shutdown(SHUT_WR): active close", "server close() too: FINs crossed",
            "client kernel ACKs the FIN (FINs crossed)", "last ACK: both in TIME_WAIT",
        ], "\(captions)")
    }

    /// A fixture's events, read with the timeline's own JSON Lines reader: every line must parse.
    static func timeline(_ name: String) throws -> [TimelineEvent] {
        let contents = EventsFile.parse(try String(contentsOf: fixture(name), encoding: .utf8))
        #expect(contents.rejected.isEmpty, "\(name): \(contents.rejected)")
        return contents.events
    }

    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    /// xmllint (libxml2-utils) parses the file: one well-formed XML document, no external entity.
    func expectWellFormed(_ svg: String, _ name: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ladder-\(getpid())-\(UUID().uuidString).svg")
        try svg.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let lint = try runCommand("/usr/bin/xmllint", ["--noout", "--nonet", file.path])
        #expect(lint.status == 0, "\(name): xmllint: \(lint.stderr.prefix(5))")
        #expect(!svg.contains("href") && !svg.contains("<!ENTITY") && !svg.contains("<script"), "\(name): external reference")
    }
}
