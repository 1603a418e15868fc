import Foundation
import SocketCore
import Testing
import TestSupport
import Timeline

/// `handshake-watch -r X.pcap` with `X.events.jsonl` beside it: the recorded calls and output
/// among the packets, the FIN's and RST's real calls named, `--no-events` to leave them out.
@Suite("Recorded events (the .events.jsonl sidecar)")
struct RecordedEventsTests {
    static func capture(_ name: String) -> String { packageRoot.appendingPathComponent("captures/\(name).pcap").path }

    /// The echo capture copied beside a sidecar written by the test: connect() spanning the
    /// handshake, a stdout line, the client's shutdown() spanning its FIN, a kernel event this
    /// build does not draw, and a line that is not JSON.
    private func echoWithSidecar(_ directory: TemporaryDirectory) throws -> (path: String, events: [TimelineEvent]) {
        let packets = try JSONRun(["-r", Self.capture("echo-ipv4"), "--no-events"]).packets
        func time(_ index: Int) throws -> EpochTime {
            let number = try #require(packets[index]["time"] as? NSNumber)
            return try #require(EpochTime(parsing: Substring(number.description)))
        }
        let syn = try time(0), ack = try time(2), fin = try time(7)
        let events: [TimelineEvent] = [
            .syscall(time: syn.adding(seconds: -0.000010), duration: ack.value - syn.value + 0.000020, label: "client",
                     pid: 7, call: "connect", text: "connect(fd 3, 127.0.0.1:1) -> 0"),
            .output(time: ack.adding(seconds: 0.000001), label: "client", stream: "stdout", text: "client connected"),
            TimelineEvent(type: "state", time: ack, fields: [("from", .string("SYN_SENT")), ("to", .string("ESTABLISHED"))]),
            .syscall(time: fin.adding(seconds: -0.000003), duration: 0.000010, label: "client", pid: 7,
                     call: "shutdown", text: "shutdown(fd 3, SHUT_WR) -> 0"),
        ]
        let path = try directory.write("echo.pcap", Array(try Data(contentsOf: URL(fileURLWithPath: Self.capture("echo-ipv4")))))
        let sidecar = EventsFile.render(events) + "not an event\n"
        _ = try directory.write("echo.events.jsonl", Array(sidecar.utf8))
        return (path, events)
    }

    @Test("text: the sidecar's calls and output interleave with the packets by time; --no-events leaves them out")
    func textInterleaves() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try echoWithSidecar(directory)
        let run = try runCommand("handshake-watch", ["-r", path])
        #expect(run.status == 0)
        #expect(run.stderr.contains { $0.hasSuffix("echo.events.jsonl line 5 skipped: not JSON: unknown word at byte 1") }, "\(run.stderr)")
        let lines = run.stdout
        // connect() spans the handshake: its start before the SYN, its return after the ACK.
        let connect = try #require(lines.firstIndex { $0.hasSuffix("[client] connect(fd 3, 127.0.0.1:1) ...") })
        let returned = try #require(lines.firstIndex { $0.contains("[client] ... connect() -> 0 <0.0000") })
        let syn = try #require(lines.firstIndex { $0.contains("[SYN]") })
        let output = try #require(lines.firstIndex { $0.hasSuffix("[client] client connected") })
        let ack = try #require(lines.firstIndex { $0.contains("handshake 3/3") })
        #expect(connect < syn && ack < output && ack < returned, "\(lines)")
        #expect(!lines.contains { $0.contains("SYN_SENT") }, "types without a text form are skipped")
        let fin = try #require(lines.first { $0.contains("[FIN,ACK]") })
        #expect(fin.contains("client called shutdown(SHUT_WR): active close"), "\(fin)")

        let without = try runCommand("handshake-watch", ["-r", path, "--no-events"])
        #expect(without.stdout.count == 12)   // 10 packets, the TIME_WAIT note, the summary
        #expect(!without.stdout.contains { $0.contains("[client]") })
        #expect(without.stdout.contains { $0.contains("client called close() or shutdown(SHUT_WR): active close") })
        #expect(!without.stderr.contains { $0.contains("events.jsonl") })
    }

    @Test("json: the sidecar's own objects, byte for byte, among the packet objects in time order")
    func jsonCarriesTheSidecar() throws {
        let directory = try TemporaryDirectory()
        let (path, events) = try echoWithSidecar(directory)
        let run = try runCommand("handshake-watch", ["-r", path, "--format", "json"])
        #expect(run.status == 0)
        let sidecarLines = EventsFile.render(events).split(separator: "\n").map(String.init)
        #expect(run.stdout.filter { !$0.contains("\"type\":\"packet\"") && !$0.contains("\"type\":\"connection\"")
            && !$0.contains("\"type\":\"stats\"") } == sidecarLines)
        let timed = run.stdout.compactMap { line -> EpochTime? in
            guard let range = line.firstRange(of: "\"time\":") else { return nil }
            return EpochTime(parsing: line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        #expect(timed == timed.sorted(), "events and packets in time order")
        let none = try runCommand("handshake-watch", ["-r", path, "--format", "json", "--no-events"])
        #expect(none.stdout.count == 12)
    }

    @Test("the recorded captures name the calls: shutdown(SHUT_WR) for echo-client, SO_LINGER 0, the listener's close()")
    func recordedCapturesNameTheCalls() throws {
        let echo = try runCommand("handshake-watch", ["-r", Self.capture("echo-ipv4")])
        #expect(echo.stdout.contains { $0.contains("client called shutdown(SHUT_WR): active close") }, "\(echo.stdout)")
        #expect(echo.stdout.contains { $0.contains("[client] connect(fd ") })

        let linger = try runCommand("handshake-watch", ["-r", Self.capture("linger-reset")])
        #expect(linger.stdout.contains { $0.contains("[RST,ACK]") && $0.contains("close() with SO_LINGER 0") }, "\(linger.stdout)")
        let backlog = try runCommand("handshake-watch", ["-r", Self.capture("syn-backlog")])
        #expect(backlog.stdout.contains { $0.contains("[RST,ACK]") && $0.contains("closed its listening socket while this connection was still in the accept queue") },
                "\(backlog.stdout)")
        // Without the events, both causes are named.
        let bare = try runCommand("handshake-watch", ["-r", Self.capture("syn-backlog"), "--no-events"])
        #expect(bare.stdout.contains { $0.contains("[RST,ACK]") && $0.contains("SO_LINGER 0") && $0.contains("listener closed") }, "\(bare.stdout)")
        let ladder = try runCommand("handshake-watch", ["-r", Self.capture("syn-backlog"), "--format", "ladder", "--no-events"])
        #expect(ladder.stdout.contains { $0.contains("RST: aborted (SO_LINGER 0? listener closed?)") })
    }

    @Test("the ladder counts from the first line it draws: its times, arrows' and calls', only go down the page")
    func ladderTimesGoDown() throws {
        let run = try runCommand("handshake-watch", ["-r", Self.capture("syn-backlog"), "--format", "ladder"])
        #expect(run.status == 0)
        // `#1   156.992 ms |-- SYN ...` and `     0.510 ms |   +- [server] listen(...)`: the time ends at column 12.
        let times = run.stdout.compactMap { line -> Double? in
            guard line.dropFirst(12).hasPrefix(" ms ") else { return nil }
            return line.prefix(12).split(separator: " ").last.flatMap { Double($0) }
        }
        #expect(run.stdout.filter { $0.contains(" ms |-") || $0.contains(" ms |<-") }.count == 20, "an arrow per packet")
        #expect(times.count > 20 && times.first == 0, "\(times)")
        #expect(times == times.sorted(), "\(times)")
        #expect(run.stdout.contains { $0.contains("win 65495") })
    }

    @Test("a sidecar that cannot be read is one clear error, exit 1")
    func unreadableSidecar() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("x.pcap", Array(try Data(contentsOf: URL(fileURLWithPath: Self.capture("refused")))))
        try FileManager.default.createDirectory(atPath: directory.url.appendingPathComponent("x.events.jsonl").path,
                                                withIntermediateDirectories: true)
        let run = try runCommand("handshake-watch", ["-r", path])
        #expect(run.status == 1)
        #expect(run.stderr.last?.contains("x.events.jsonl: not a regular file") == true, "\(run.stderr)")
        #expect(try runCommand("handshake-watch", ["-r", path, "--no-events"]).status == 0)
    }

    /// echo-ipv4's sidecar holds the client's `FIN_WAIT2 → CLOSE` (tracepoint) and, 71 ms later,
    /// its `FIN_WAIT2 → TIME_WAIT` (sock_diag): the text shows one step, the JSON both events.
    @Test("the timewait takeover is one line, FIN_WAIT2 → TIME_WAIT, explained once; JSON keeps both events")
    func timeWaitTakeoverIsOneStep() throws {
        let text = try runCommand("handshake-watch", ["-r", Self.capture("echo-ipv4")])
        #expect(text.status == 0)
        let client = "[kernel] 127.0.0.1:53864 "
        let steps = text.stdout.filter { $0.contains(client) && $0.contains("TIME_WAIT") }
        #expect(steps.count == 1, "\(steps)")
        #expect(steps.first?.contains(client + "FIN_WAIT2 → TIME_WAIT (") == true, "\(steps)")
        #expect(!text.stdout.contains { $0.contains("[kernel]") && $0.contains("FIN_WAIT2 → CLOSE") })
        let step = try #require(text.stdout.firstIndex { $0.contains(client + "FIN_WAIT2 → TIME_WAIT") })
        #expect(text.stdout[step + 1] == TimeWaitTakeover.explanation)
        #expect(text.stdout.filter { $0 == TimeWaitTakeover.explanation }.count == 1)

        let json = try JSONRun(["-r", Self.capture("echo-ipv4")]).events.filter { $0["type"] as? String == "state" && $0["lport"] as? Int == 53864 }
        let changes = json.map { "\($0["from"] ?? "") → \($0["to"] ?? "") \($0["source"] ?? "")" }
        #expect(changes.suffix(2) == ["FIN_WAIT2 → CLOSE tracepoint", "FIN_WAIT2 → TIME_WAIT sock_diag"], "\(changes)")
    }
}
