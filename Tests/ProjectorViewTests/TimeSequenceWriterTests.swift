import Foundation
@testable import LiveView
import Testing
import TestSupport
import Timeline

/// The time-sequence graph: golden files, well-formed XML, and the command and server that make it.
/// `UPDATE_GOLDEN=1 swift test --filter TimeSequenceWriter` rewrites the golden files; look at
/// them (a browser) before committing.
@Suite("Time-sequence graph writer")
struct TimeSequenceWriterTests {
    @Test("each fixture's graph is its golden file, byte for byte", arguments: ["lossy", "slow-reader", "keepalive", "slow-start"])
    func golden(_ name: String) throws {
        let events = try Self.events("timeseq-\(name).jsonl")
        let svg = TimeSequenceWriter.svg(events)
        let golden = SVGLadderWriterTests.fixture("timeseq-\(name).svg")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try svg.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(svg == expected, "timeseq-\(name).svg differs from the golden file (UPDATE_GOLDEN=1 rewrites it)")
        try SVGLadderWriterTests().expectWellFormed(svg, name)
    }

    @Test("a bar per data segment; every retransmission the analysis names is drawn red with its ring")
    func barsAndRetransmissions() throws {
        let events = try Self.events("timeseq-lossy.jsonl")
        let svg = TimeSequenceWriter.svg(events)
        let data = events.filter { ($0.int("len") ?? 0) > 0 && $0.int("sport") == events.first?.int("sport") }
        let resent = data.filter { ($0["analysis"]?.arrayValue ?? []).contains { $0.stringValue?.hasSuffix("retransmission") == true } }
        #expect(!resent.isEmpty)
        #expect(svg.components(separatedBy: "stroke=\"#c81e1e\" stroke-width=\"2.5\"").count - 1 == resent.count)
        #expect(svg.contains("retransmission (\(resent.count))"))
        #expect(svg.components(separatedBy: "<title>SACK ").count > 1, "the SACK blocks are drawn")
        #expect(TimeSequenceWriter.svg(events, connection: 99).contains("no connection"))
    }

    @Test("handshake-watch --format timeseq --conn N writes the graph; bad --conn is one line, exit 1")
    func command() throws {
        let run = try runCommand("handshake-watch", ["-r", "captures/lossy.pcap", "--format", "timeseq", "--conn", "1"],
                                 currentDirectory: packageRoot.path)
        #expect(run.status == 0, "\(run.stderr)")
        let svg = run.stdout.joined(separator: "\n")
        #expect(svg.hasPrefix("<?xml") && svg.contains("conn 1: 10.21.0.1:"))
        try SVGLadderWriterTests().expectWellFormed(svg, "lossy")
        let wrong = try runCommand("handshake-watch", ["-r", "captures/lossy.pcap", "--conn", "1"], currentDirectory: packageRoot.path)
        #expect(wrong.status == 1 && wrong.stderr.contains { $0.contains("--conn picks the connection of --format timeseq") })
    }

    @Test("tcp-probe samples draw the congestion window, ssthresh and srtt under the graph, on its time axis")
    func congestionPlots() throws {
        let events = try Self.events("timeseq-slow-start.jsonl")
        let svg = TimeSequenceWriter.svg(events)
        #expect(svg.contains("height=\"990\"") && svg.contains(">cwnd (segments)</text>") && svg.contains(">srtt (ms)</text>"))
        #expect(svg.contains("<title>cwnd: segments the sender may have in flight</title>"))
        // The sender's samples only: its cwnd rose from 10 in slow start; ssthresh was never set (no dashed line).
        let senderProbes = events.filter { $0.type == "tcp-probe" && $0.int("lport") == 38004 }
        #expect((senderProbes.compactMap { $0.int("snd_cwnd") }.max() ?? 0) > 10)
        #expect(!svg.contains("stroke-dasharray=\"6 4\"><title>ssthresh"), "ssthresh still infinite: not drawn")
        // Without the samples, the graph is the plain one.
        let packets = events.filter { $0.type != "tcp-probe" }
        let plain = TimeSequenceWriter.svg(packets)
        #expect(plain.contains("height=\"620\"") && !plain.contains("cwnd"))
        // A set ssthresh is dashed; the infinite one before it is left out.
        let probes = [(10, 0x7fff_ffff), (20, 0x7fff_ffff), (14, 10), (16, 12)].enumerated().map { index, sample in
            TimeSequenceWriter.Probe(time: Double(index) * 0.01, congestionWindow: sample.0,
                                     slowStartThreshold: sample.1 >= TimeSequenceWriter.infiniteThreshold ? nil : sample.1,
                                     smoothedRTTMilliseconds: 40)
        }
        let lower = TimeSequenceWriter.congestionPlots(probes, start: 0, maxTime: 0.05) { 90 + $0 * 1000 }
        let dashed = try #require(lower.split(separator: "\n").first { $0.contains("stroke-dasharray=\"6 4\"><title>ssthresh") })
        #expect(dashed.hasPrefix("<path d=\"M110.0,"), "starts at the third sample, where ssthresh was set: \(dashed)")
    }

    @Test("a capture and its sidecar replay the same congestion-window plot (handshake-watch -r --format timeseq)")
    func replayedFromTheSidecar() throws {
        let run = try runCommand("handshake-watch", ["-r", "captures/slow-start.pcap", "--format", "timeseq"],
                                 currentDirectory: packageRoot.path)
        #expect(run.status == 0, "\(run.stderr)")
        let svg = run.stdout.joined(separator: "\n") + "\n"
        #expect(svg == TimeSequenceWriter.svg(try Self.events("timeseq-slow-start.jsonl")))
        let plain = try runCommand("handshake-watch", ["-r", "captures/slow-start.pcap", "--format", "timeseq", "--no-events"],
                                   currentDirectory: packageRoot.path)
        #expect(!plain.stdout.joined().contains("cwnd"), "--no-events: no kernel samples, no plot")
    }

    static func events(_ name: String) throws -> [TimelineEvent] {
        EventsFile.parse(try String(contentsOf: SVGLadderWriterTests.fixture(name), encoding: .utf8)).events
    }
}
