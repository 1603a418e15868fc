import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport
import Timeline

/// `handshake-watch --serve` in a real headless Chromium: the live capture of an echo round trip
/// on lo (root), a stream dropped by the server and resumed, the `-r` replay of every capture,
/// and `-r --serve` as an unprivileged user. Artifacts (screenshots, console logs) go to
/// .build/test-artifacts/projector-view/. "Live" in the name: scripts/test runs it alone.
@Suite("LiveViewServe", .live, .serialized)
struct LiveViewServeTests {
    /// Starts handshake-watch with `--serve 0` and the test hooks on; returns it and its port.
    static func serve(_ arguments: [String], prefix: [String] = [], tool: String = "handshake-watch",
                      ready: String) throws -> (ToolProcess, Int) {
        let watcher = try ToolProcess(tool, arguments + ["--serve", "0"], prefix: prefix,
                                      environment: ["SOCKETTUTOR_LIVEVIEW_TEST_HOOKS": "1"],
                                      currentDirectory: packageRoot.path)
        do {
            _ = try watcher.waitForLine(containing: ready, onStderr: true, timeout: 30)
            let line = try watcher.waitForLine(containing: "serving the live view on", onStderr: true, timeout: 30)
            #expect(line.hasPrefix("serving the live view on http://127.0.0.1:") && line.hasSuffix("/"), "\(line)")
            return (watcher, try watcher.waitForPort(containing: "serving the live view on", onStderr: true))
        } catch {
            watcher.stop()
            throw error
        }
    }

    @Test("live: the page shows SYN, SYN-ACK, ACK of an echo round trip; a stream dropped by the server resumes with Last-Event-ID, every event once",
          .enabled(if: Privileges.canCapture, "live capture needs root or CAP_NET_RAW"))
    func liveEcho() throws {
        try BrowserTests.requireBrowser()
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let (watcher, webPort) = try Self.serve(["-i", "lo", "port", "\(port)"], ready: "listening on lo")
        defer { watcher.stop() }
        let base = "http://127.0.0.1:\(webPort)"
        let artifacts = BrowserTests.artifacts
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let page = try ToolProcess(BrowserTests.python, [
            BrowserTests.browserDirectory.appendingPathComponent("check_page.py").path, "\(base)/",
            "--screenshot", artifacts.appendingPathComponent("live-serve.png").path,
            "--console-log", artifacts.appendingPathComponent("live-serve.console.jsonl").path,
            "--handshake", "--drop", "\(base)/_test/drop", "--reconnected", "--events-url", "\(base)/events.jsonl",
            "--source", "live", "--timeout", "120",
        ])
        defer { page.stop() }
        _ = try page.waitForLine(containing: "check_page: page open", onStderr: true, timeout: 120)
        let client = try runCommand("echo-client", ["--port", "\(port)", "Hello"])
        #expect(client.status == 0)
        let status = try page.waitForExit(timeout: 400)
        #expect(status == 0, "\(page.stderr.joined(separator: "\n"))")
        let resumed = watcher.stderr.filter { $0.hasPrefix("stream after ") && $0.hasSuffix("(Last-Event-ID)") }
        #expect(resumed.contains { !$0.hasPrefix("stream after 0 ") }, "no resume after the drop: \(watcher.stderr)")
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit() == 0)
        #expect(watcher.stdout.contains { $0.contains("\(port)") }, "the terminal output goes on: \(watcher.stdout)")
    }

    @Test("-r of every capture with --serve: the page draws it without a JavaScript error, to the end; its badge says replay")
    func replayEveryCapture() throws {
        try BrowserTests.requireBrowser()
        let captures = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("captures").path)
            .filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(captures.count >= 8)
        for capture in captures {
            let (watcher, webPort) = try Self.serve(["-r", "captures/\(capture)"], ready: "reading from file")
            defer { watcher.stop() }
            let events = try runCommand("handshake-watch", ["-r", "captures/\(capture)", "--format", "json"],
                                        currentDirectory: packageRoot.path).stdout.count
            _ = try watcher.waitForLine(containing: "packets captured", onStderr: true, timeout: 60)   // the replay is done
            try BrowserTests.check(BrowserTests.Server(process: watcher, port: webPort), artifact: "serve-\(capture)",
                                   ["--events", String(events), "--visit-all", "--source", "replay"])
            watcher.signal(SIGTERM)
            #expect(try watcher.waitForExit() == 0, "\(capture)")
        }
    }

    @Test("/timeseq.svg?conn=N: the time-sequence graph of the events kept, the same as --format timeseq; /words.json the wording table")
    func timeSequenceGraph() throws {
        let (watcher, webPort) = try Self.serve(["-r", "captures/keepalive.pcap"], ready: "reading from file")
        defer { watcher.stop() }
        _ = try watcher.waitForLine(containing: "packets captured", onStderr: true, timeout: 60)
        let served = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(webPort)/timeseq.svg?conn=1"])
        let written = try runCommand("handshake-watch", ["-r", "captures/keepalive.pcap", "--format", "timeseq", "--conn", "1"],
                                     currentDirectory: packageRoot.path)
        #expect(served.status == 0 && served.stdout.first?.hasPrefix("<?xml") == true)
        #expect(served.stdout == written.stdout, "the server and the command draw the same graph")
        let none = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(webPort)/timeseq.svg?conn=7"])
        #expect(none.stdout.joined().contains("no connection"))
        // The page's words: the one table, as the server makes it.
        let words = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(webPort)/words.json"])
        #expect(words.status == 0 && words.stdout.joined(separator: "\n") + "\n" == StepWording.json)
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
    }

    @Test("/timeseq.svg draws the sidecar's tcp-probe samples too: the same congestion-window plot as --format timeseq")
    func timeSequenceGraphWithTheCongestionWindow() throws {
        let (watcher, webPort) = try Self.serve(["-r", "captures/slow-start.pcap"], ready: "reading from file")
        defer { watcher.stop() }
        _ = try watcher.waitForLine(containing: "packets captured", onStderr: true, timeout: 60)
        let served = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(webPort)/timeseq.svg?conn=1"])
        let written = try runCommand("handshake-watch", ["-r", "captures/slow-start.pcap", "--format", "timeseq", "--conn", "1"],
                                     currentDirectory: packageRoot.path)
        #expect(served.stdout.joined().contains(">cwnd (segments)</text>"))
        #expect(served.stdout == written.stdout, "the server and the command draw the same graph")
        // The page's second view (g) shows it inline, the congestion-window plot included.
        try BrowserTests.requireBrowser()
        let page = try ToolProcess(BrowserTests.python, [
            BrowserTests.browserDirectory.appendingPathComponent("check_page.py").path, "http://127.0.0.1:\(webPort)/",
            "--screenshot", BrowserTests.artifacts.appendingPathComponent("timeseq-graph.png").path,
            "--graph", "cwnd (segments)", "--timeout", "120",
        ])
        defer { page.stop() }
        #expect(try page.waitForExit(timeout: 400) == 0, "\(page.stderr.joined(separator: "\n"))")
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
    }

    @Test("without root, -r with --serve works fully: events, the page, the SVG, event: end on SIGTERM",
          .enabled(if: Privileges.isRoot, "setpriv to nobody needs root"))
    func replayAsNobody() throws {
        try BrowserTests.requireBrowser()
        let tool = try Privileges.toolForNobody("handshake-watch")
        defer { tool.remove() }
        let (watcher, webPort) = try Self.serve(["-r", "captures/echo-ipv4.pcap", "--pace", "0.01"],
                                                prefix: Privileges.asNobody, tool: tool.path, ready: "reading from file")
        defer { watcher.stop() }
        let events = try runCommand("handshake-watch", ["-r", "captures/echo-ipv4.pcap", "--format", "json"],
                                    currentDirectory: packageRoot.path).stdout.count
        let stream = try Socket.connected(host: "127.0.0.1", port: webPort, timeout: 30)
        try stream.sendAll(Array("GET /events HTTP/1.0\r\n\r\n".utf8))
        try BrowserTests.check(BrowserTests.Server(process: watcher, port: webPort), artifact: "serve-nobody",
                               ["--events", String(events), "--visit-all"])
        let svg = try runCommand("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(webPort)/ladder.svg"])
        #expect(svg.status == 0 && svg.stdout.first?.hasPrefix("<?xml") == true)
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
        let received = String(decoding: try Self.readToEnd(stream), as: UTF8.self)
        #expect(received.contains("id: \(events)\n"), "every event on the raw stream")
        #expect(received.hasSuffix("event: end\ndata: {}\n\n"), "\(received.suffix(200))")
        #expect(received.contains("event: source\ndata: {\"source\":\"replay\"}\n\n"), "a file is a replay: \(received.prefix(200))")
    }

    static func readToEnd(_ socket: Socket) throws -> [UInt8] {
        try socket.setReceiveTimeout(seconds: 60)
        var bytes: [UInt8] = []
        while true {
            let chunk = try socket.recv(maxBytes: 65536)
            if chunk.isEmpty { return bytes }
            bytes += chunk
        }
    }
}
