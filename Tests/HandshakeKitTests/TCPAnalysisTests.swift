import Foundation
import Testing
@testable import HandshakeKit

/// Each rule of the TCP analysis on a hand-built conversation: numbers chosen so that one rule
/// decides, times chosen around Wireshark's thresholds (the initial RTT, 20 ms after dup ACKs).
@Suite("TCP analysis")
struct TCPAnalysisTests {
    /// A conversation written as (segment, seconds since the previous one).
    struct Script {
        var isn: (client: UInt32, server: UInt32) = (1_000, 5_000)
        var steps: [(FixtureSegment, Double)] = []
        var windowScale: UInt8?

        /// The handshake, the client's ACK `rtt` after its SYN.
        init(isn: (UInt32, UInt32) = (1_000, 5_000), rtt: Double = 0.010, windowScale: UInt8? = nil) {
            self.isn = isn
            self.windowScale = windowScale
            let options: [UInt8] = windowScale.map { [1, 3, 3, $0] } ?? []
            var syn = segment(client, server, SYN, seq: isn.0)
            syn.tcpOptions = options
            var synAck = segment(server, client, SYN | ACK, seq: isn.1, ack: isn.0 &+ 1)
            synAck.tcpOptions = options
            steps = [(syn, 0), (synAck, rtt / 2), (segment(client, server, ACK, seq: isn.0 &+ 1, ack: isn.1 &+ 1), rtt / 2)]
        }

        /// Client data at relative byte `at` (1 = the first byte).
        mutating func data(_ at: UInt32, _ length: Int, after gap: Double = 0.001) {
            steps.append((segment(client, server, ACK | PSH, seq: isn.client &+ at, ack: isn.server &+ 1, payload: length), gap))
        }

        /// The server's ACK of client bytes before relative `before`, with a window and SACK blocks.
        mutating func ack(_ before: UInt32, window: UInt16 = 65_535, sack: [(UInt32, UInt32)] = [], after gap: Double = 0.001) {
            var ack = segment(server, client, ACK, seq: isn.server &+ 1, ack: isn.client &+ before)
            ack.window = window
            if !sack.isEmpty {
                ack.tcpOptions = [1, 1, 5, UInt8(2 + 8 * sack.count)]
                for (left, right) in sack { ack.tcpOptions += be32(isn.client &+ left) + be32(isn.client &+ right) }
            }
            steps.append((ack, gap))
        }

        /// A bare client segment at relative `at` (a keep-alive or Linux's zero-window probe).
        mutating func bare(_ at: UInt32, after gap: Double) {
            steps.append((segment(client, server, ACK, seq: isn.client &+ at, ack: isn.server &+ 1), gap))
        }

        func run() throws -> [TrackedPacket] {
            let list = try packets(steps.map(\.0), gaps: steps.dropFirst().map(\.1))
            return track(list, finish: false).steps
        }
    }

    @Test("a segment sent again after a timeout is a retransmission; the same one again doubles the back-off")
    func retransmissionByTimeout() throws {
        var script = Script()
        script.data(1, 100)
        script.data(1, 100, after: 0.210)
        script.data(1, 100, after: 0.420)
        let steps = try script.run()
        #expect(steps[3].findings.isEmpty && steps[3].step == .data)
        #expect(steps[4].findings == [.retransmission] && steps[4].step == .retransmit)
        #expect(steps[4].analysis.sinceOriginal.map { abs($0 - 0.210) < 1e-6 } == true)
        #expect(steps[5].analysis.backoff == 2 && steps[4].analysis.backoff == 1)
        #expect(StepExplanation.text(for: steps[4]) == "retransmission of bytes 1–100 after 210.000 ms (RTO: no ACK came in time)")
        #expect(StepExplanation.text(for: steps[5]).contains("timeout #2"))
    }

    @Test("dup ACKs are counted, their SACK blocks read, and the resend within 20 ms of the third is a fast retransmission")
    func duplicateAcksAndFastRetransmission() throws {
        var script = Script()
        script.data(1, 100); script.data(101, 100); script.data(201, 100); script.data(301, 100)
        script.ack(101)
        script.ack(101, sack: [(201, 301)])
        script.ack(101, sack: [(201, 401)])
        script.data(101, 100, after: 0.002)
        let steps = try script.run()
        #expect(steps[7].findings == [] && steps[8].findings == [.duplicateAck] && steps[9].findings == [.duplicateAck])
        #expect(steps[8].analysis.duplicateAckNumber == 1 && steps[9].analysis.duplicateAckNumber == 2)
        #expect(steps[8].step == .dupAck)
        #expect(StepExplanation.text(for: steps[9]) == "duplicate ACK #2: the server still waits for byte 101; SACK says it holds 201–400")
        #expect(AnalysisExplanation.sackEdges(steps[9]) == "SACK 201-401")
        #expect(steps[10].findings == [.fastRetransmission] && steps[10].step == .retransmit)
        #expect(StepExplanation.text(for: steps[10]).hasPrefix("fast retransmission of bytes 101–200 after 2 duplicate ACKs"))
    }

    @Test("old bytes within one initial RTT are out of order; the gap before them was a previous segment not captured")
    func outOfOrderAndLostSegment() throws {
        var script = Script(rtt: 0.050)
        script.data(1, 100)
        script.data(201, 100)            // 101-200 not seen yet
        script.data(101, 100, after: 0.005)
        let steps = try script.run()
        #expect(steps[4].findings == [.previousSegmentNotCaptured])
        #expect(StepExplanation.text(for: steps[4]).contains("bytes 101–200 were not seen"))
        #expect(steps[5].findings == [.outOfOrder] && steps[5].step == .data)
    }

    @Test("the same old bytes later than one initial RTT are a retransmission, not out of order")
    func retransmissionAfterTheRTT() throws {
        var script = Script(rtt: 0.002)
        script.data(1, 100)
        script.data(201, 100)
        script.data(101, 100, after: 0.005)
        #expect(try script.run()[5].findings == [.retransmission])
    }

    @Test("bytes the receiver already acknowledged, sent again, are a spurious retransmission")
    func spurious() throws {
        var script = Script()
        script.data(1, 100)
        script.ack(101)
        script.data(1, 100, after: 0.3)
        let steps = try script.run()
        #expect(steps[5].findings == [.spuriousRetransmission] && steps[5].step == .retransmit)
    }

    @Test("an ACK beyond every byte seen acknowledges an unseen segment")
    func ackOfUnseen() throws {
        var script = Script()
        script.data(1, 100)
        script.ack(301)
        #expect(try script.run()[4].findings == [.ackOfUnseenSegment])
    }

    @Test("zero window, Linux's probe one byte back (our zero-window-probe, Wireshark's keep-alive), its answer, the window update")
    func zeroWindowAndProbe() throws {
        var script = Script()
        script.data(1, 100)
        script.ack(101, window: 0)
        script.bare(100, after: 0.2)
        script.ack(101, window: 0)
        script.ack(101, window: 4_096, after: 0.5)
        let steps = try script.run()
        #expect(steps[4].findings == [.zeroWindow])
        #expect(steps[5].findings == [.zeroWindowProbe] && steps[5].step == .probe)
        #expect(StepExplanation.text(for: steps[5]) == "zero-window probe: is there room yet? (the persist timer)")
        #expect(steps[6].findings == [.zeroWindow, .zeroWindowProbeAck])
        #expect(steps[7].findings == [.windowUpdate])
    }

    @Test("Wireshark's zero-window probe: the next byte alone while the window is 0")
    func oneByteProbe() throws {
        var script = Script()
        script.data(1, 100)
        script.ack(101, window: 0)
        script.data(101, 1, after: 0.2)
        let steps = try script.run()
        #expect(steps[5].findings == [.zeroWindowProbe] && steps[5].step == .probe)
    }

    @Test("a keep-alive one byte back while the window is open, and the ACK that answers it")
    func keepAlive() throws {
        var script = Script()
        script.data(1, 5)
        script.ack(6)
        script.bare(5, after: 1.0)
        script.ack(6)
        let steps = try script.run()
        #expect(steps[5].findings == [.keepAlive] && steps[5].step == .probe)
        #expect(steps[6].findings == [.keepAliveAck])
        #expect(!StepExplanation.text(for: steps[5]).contains("acknowledges every byte"))
    }

    @Test("window full uses the scaled window: a raw 4 with scale 7 is 512 bytes")
    func windowFullScaled() throws {
        var script = Script(windowScale: 7)
        script.ack(1, window: 4)
        script.data(1, 512)
        let steps = try script.run()
        #expect(steps[3].window == 512)
        #expect(steps[4].findings == [.windowFull])
        var unscaled = Script()
        unscaled.ack(1, window: 512)
        unscaled.data(1, 512)
        #expect(try unscaled.run()[4].findings == [.windowFull])
    }

    @Test("sequence numbers that wrap past 2^32: new data stays new, a resend across the wrap is a retransmission")
    func wrapAround() throws {
        var script = Script(isn: (UInt32.max - 150, 5_000))
        script.data(1, 100)
        script.data(101, 100)            // crosses 2^32
        script.data(201, 100)
        script.ack(201)
        script.data(101, 100, after: 0.3)
        let steps = try script.run()
        #expect(steps[3...6].allSatisfy { $0.findings.isEmpty })
        #expect(steps[7].findings == [.spuriousRetransmission])
        var lost = Script(isn: (UInt32.max - 150, 5_000))
        lost.data(1, 100)
        lost.data(201, 100)
        lost.data(101, 100, after: 0.3)
        let lostSteps = try lost.run()
        #expect(lostSteps[4].findings == [.previousSegmentNotCaptured])
        #expect(lostSteps[5].findings == [.retransmission])
        #expect(lostSteps[5].relativeSequence == 101)
    }

    @Test("a duplicate SACK (RFC 2883): the first block below the cumulative ACK is named DSACK")
    func dsack() throws {
        var script = Script()
        script.data(1, 100)
        script.data(1, 100, after: 0.3)
        script.ack(101, sack: [(1, 101)])
        let steps = try script.run()
        #expect(AnalysisExplanation.sackEdges(steps[5]) == "DSACK 1-101")
        #expect(StepExplanation.text(for: steps[5]).contains("(DSACK: 1–100 arrived twice)"))
    }

    @Test("the summary counts retransmitted segments and bytes, dup ACKs, zero-window time and the back-off")
    func summaryCounters() throws {
        var script = Script()
        script.data(1, 100)
        script.data(1, 100, after: 0.2)
        script.data(1, 100, after: 0.4)
        script.ack(101, window: 0)
        script.ack(101, window: 0, after: 0.1)
        script.ack(101, window: 8_192, after: 0.5)
        script.ack(101, window: 8_192)
        let list = try packets(script.steps.map(\.0), gaps: script.steps.dropFirst().map(\.1))
        var summaries: [ConnectionSummary] = []
        let tracker = ConnectionTracker()
        for packet in list { _ = tracker.track(packet) }
        tracker.finishAll { summaries.append($0) }
        let summary = try #require(summaries.first)
        #expect(summary.retransmittedSegments == 2 && summary.retransmittedBytes == 200)
        #expect(summary.duplicateAcks == 1)
        #expect(summary.highestBackoff == 2)
        #expect(abs(summary.zeroWindowSeconds - 0.6) < 1e-6)
    }
}

/// The text renderer writes the common sentences straight into its byte buffer; they must be
/// the very bytes of `StepExplanation.text(for:)`, the one table the other renderers use.
@Suite("Step sentences written into the buffer")
struct StepSentenceBufferTests {
    final class Comparing: Renderer {
        let output = OutputBuffer(lines: { _ in })
        var compared = 0
        var mismatches: [String] = []

        func packet(_ tracked: TrackedPacket) {
            var written: [UInt8] = []
            let buffer = OutputBuffer(lines: { written = $0 })
            StepExplanation.write(tracked, into: buffer)
            buffer.endLine()
            let expected = StepExplanation.text(for: tracked)
            if written != Array(expected.utf8) { mismatches.append("\(String(decoding: written, as: UTF8.self)) != \(expected)") }
            compared += 1
        }
        func connectionEnded(_ summary: ConnectionSummary) {}
        func finish(_ stats: CaptureStats) {}
    }

    @Test("every packet of every capture in captures/: the same bytes both ways")
    func sameBytes() throws {
        for path in BriefOutputTests.captures {
            let renderer = Comparing()
            try replayCapture(path, into: renderer)
            #expect(renderer.compared > 0, "\(path)")
            #expect(renderer.mismatches.isEmpty, "\(path): \(renderer.mismatches.prefix(3))")
        }
    }
}
