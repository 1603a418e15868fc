import Foundation
import Glibc
import Testing
import TestSupport

/// `tcp:tcp_probe` live: a bulk echo over loopback, watched with `--kernel`. What TCP and Linux
/// guarantee, not timings: every connection starts at cwnd 10 (RFC 6928's initial window), and
/// a sender that keeps its window full grows it in slow start. Root only; runs serialised.
@Suite("CongestionWindowLive", .live, .serialized, .enabled(if: Privileges.isRoot, "tracefs needs root"))
struct CongestionWindowLiveTests {
    /// Four megabytes of one letter, in a file for `echo-client --file`.
    static func bulkFile() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-cwnd-\(getpid()).txt")
        try Data(repeating: 0x78, count: 4 << 20).write(to: url)
        return url
    }

    /// Starts an echo server and `handshake-watch --kernel ARGS port P`, runs the bulk echo, stops
    /// the watcher (SIGINT) and returns its stdout.
    static func watchBulkEcho(_ arguments: [String]) throws -> [String] {
        let file = try bulkFile()
        defer { try? FileManager.default.removeItem(at: file) }
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet", "--buffer-size", "65536"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let watcher = try ToolProcess("handshake-watch", ["--kernel"] + arguments + ["port", "\(port)"])
        defer { watcher.stop() }
        _ = try watcher.waitForLine(containing: "listening on lo", onStderr: true)
        let client = try runCommand("echo-client", ["--port", "\(port)", "--quiet", "--file", file.path], timeout: 120)
        #expect(client.status == 0, "\(client.stderr)")
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit() == 0)
        return watcher.stdout
    }

    @Test("--format json: tcp-probe samples of the connection, starting at cwnd 10 and rising above it")
    func probesInJSON() throws {
        let lines = try Self.watchBulkEcho(["--format", "json"])
        let probes = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "tcp-probe" }
        #expect(!probes.isEmpty, "no tcp-probe among \(lines.count) lines")
        #expect(probes.allSatisfy { $0["conn"] as? Int == 1 && ($0["srtt_us"] as? Int).map { $0 > 0 } == true })
        // Each socket's first sample is the initial window; the senders' windows grow from there.
        var first: [Int: Int] = [:], highest: [Int: Int] = [:]
        for probe in probes {
            guard let port = probe["lport"] as? Int, let cwnd = probe["snd_cwnd"] as? Int else { continue }
            if first[port] == nil { first[port] = cwnd }
            highest[port] = max(highest[port] ?? 0, cwnd)
        }
        #expect(first.values.allSatisfy { $0 == 10 }, "first samples: \(first)")
        #expect(highest.values.contains { $0 > 10 }, "highest cwnd per socket: \(highest)")
    }

    @Test("--format timeseq --kernel: the SVG has the congestion-window plot under the graph")
    func plotInTheGraph() throws {
        let svg = try Self.watchBulkEcho(["--format", "timeseq"]).joined(separator: "\n")
        #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>"))
        #expect(svg.contains(">cwnd (segments)</text>") && svg.contains("<title>cwnd: segments the sender may have in flight</title>"))
        #expect(svg.contains(">srtt (ms)</text>"))
    }
}
