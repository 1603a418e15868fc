import Foundation
import Testing
import Timeline
@testable import HandshakeKit

/// Decodes fixture segments (raw IP frames) into packets 1 ms apart, as the tracker sees them.
func packets(_ segments: [FixtureSegment], start: Double = 0, gaps: [Double]? = nil) throws -> [Packet] {
    var time = start
    return try segments.enumerated().map { index, segment in
        if index > 0 { time += gaps?[index - 1] ?? 0.001 }
        let bytes = segment.frame(.raw)
        let stamp = Timestamp(seconds: 1_700_000_000 + Int(time), fraction: Int(((time - time.rounded(.down)) * 1e6).rounded()), isNanosecond: false)
        return try bytes.withUnsafeBytes { raw in
            try #require(try PacketDecoder.decode(raw, linkLayer: .rawIP, wireLength: bytes.count, number: index + 1, time: stamp))
        }
    }
}

/// Runs packets through a tracker, returns the tracked packets and the summaries.
func track(_ packets: [Packet], limit: Int = 65_536, finish: Bool = true) -> (steps: [TrackedPacket], ended: [ConnectionSummary], tracker: ConnectionTracker) {
    let tracker = ConnectionTracker(limit: limit)
    var steps: [TrackedPacket] = []
    var ended: [ConnectionSummary] = []
    for packet in packets {
        steps.append(tracker.track(packet))
        tracker.drainEnded { ended.append($0) }
    }
    if finish {
        tracker.finishAll { ended.append($0) }
    }
    return (steps, ended, tracker)
}

func segment(_ from: (String, UInt16), _ to: (String, UInt16), _ flags: UInt8, seq: UInt32, ack: UInt32 = 0, payload: Int = 0) -> FixtureSegment {
    FixtureSegment(source: from.0, destination: to.0, sourcePort: from.1, destinationPort: to.1, flags: flags,
                   sequence: seq, acknowledgement: ack, payload: [UInt8](repeating: 0x41, count: payload))
}

let client = ("10.0.0.1", UInt16(40_000)), server = ("10.0.0.2", UInt16(5_000))
let SYN = FixtureSegment.syn, ACK = FixtureSegment.ack, FIN = FixtureSegment.fin, RST = FixtureSegment.rst, PSH = FixtureSegment.psh

@Suite("Connection tracker")
struct ConnectionTrackerTests {
    @Test("an echo: handshake, data, the client's active close; relative numbers as Wireshark's")
    func echo() throws {
        let result = track(try packets(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2")), finish: false)
        #expect(result.steps.map(\.step) == [.handshakeSyn, .handshakeSynAck, .handshakeAck, .data, .ack, .data, .ack,
                                              .finActive, .finPassive, .teardownAck])
        #expect(result.steps.map(\.direction) == [.toServer, .toClient, .toServer, .toServer, .toClient, .toClient,
                                                   .toServer, .toServer, .toClient, .toServer])
        #expect(result.steps[1].relativeSequence == 0 && result.steps[1].relativeAcknowledgement == 1)
        #expect(result.steps[4].relativeAcknowledgement == 6)
        #expect(result.steps[9].relativeSequence == 7 && result.steps[9].relativeAcknowledgement == 7)
        #expect(result.steps[2].handshakeRTT.map { abs($0 - 0.002) < 1e-6 } == true)
        #expect(result.steps[9].timeWait == .client)
        #expect(result.steps.map(\.acknowledgesFin) == [false, false, false, false, false, false, false, false, true, true])
        let summary = try #require(result.ended.first)
        #expect(result.ended.count == 1, "ends at the last ACK, without waiting for the end of the capture")
        #expect(summary.outcome == .closed && summary.closedBy == .client && summary.timeWait == .client)
        #expect(summary.bytesToServer == 5 && summary.bytesToClient == 5 && summary.packets == 10)
        #expect(result.tracker.openCount == 0, "a closed connection leaves the table")
    }

    @Test("the server closes first: it is the one in TIME_WAIT")
    func serverClosesFirst() throws {
        let s = try packets([
            segment(client, server, SYN, seq: 100), segment(server, client, SYN | ACK, seq: 900, ack: 101),
            segment(client, server, ACK, seq: 101, ack: 901), segment(server, client, FIN | ACK, seq: 901, ack: 101),
            segment(client, server, FIN | ACK, seq: 101, ack: 902), segment(server, client, ACK, seq: 902, ack: 102),
        ])
        let result = track(s)
        #expect(result.steps.map(\.step).suffix(3) == [.finActive, .finPassive, .teardownAck])
        #expect(result.ended.first?.closedBy == .server)
        #expect(result.ended.first?.timeWait == .server)
    }

    @Test("SYN retransmissions are named, with the gap and the copy number; no answer is the outcome")
    func synRetransmit() throws {
        let syn = segment(client, server, SYN, seq: 7)
        let result = track(try packets([syn, syn, syn], gaps: [1.0, 2.0]))
        #expect(result.steps.map(\.step) == [.handshakeSyn, .synRetransmit, .synRetransmit])
        #expect(result.steps[1].retransmitGap.map { abs($0 - 1.0) < 1e-6 } == true && result.steps[1].retransmitCount == 2)
        #expect(result.steps[2].retransmitGap.map { abs($0 - 2.0) < 1e-6 } == true && result.steps[2].retransmitCount == 3)
        #expect(result.ended.first?.outcome == .noAnswer)
        let lone = track(try packets([syn]))
        #expect(lone.ended.first?.outcome == .open, "one SYN as the capture ends is not answered yet, not unanswered")
        #expect(result.ended.first?.synRetransmits == 2)
    }

    @Test("a capture that begins at the SYN-ACK: the client's SYN copy after it is copy 2, with no made-up gap")
    func synRetransmitAfterMissedFirstCopy() throws {
        let result = track(try packets([segment(server, client, SYN | ACK, seq: 900, ack: 101), segment(client, server, SYN, seq: 100)],
                                       start: 5))
        #expect(result.steps.map(\.step) == [.handshakeSynAck, .synRetransmit])
        #expect(result.steps[1].retransmitGap == nil && result.steps[1].retransmitCount == 2)
        #expect(StepExplanation.text(for: result.steps[1]).hasPrefix("SYN retransmitted (copy 2): "))
        #expect(LadderRenderer.shortText(result.steps[1]) == "SYN again: no answer")
    }

    @Test("a SYN carrying data (TCP Fast Open) counts its bytes")
    func fastOpenBytes() throws {
        let result = track(try packets([segment(client, server, SYN, seq: 100, payload: 12),
                                        segment(server, client, SYN | ACK, seq: 900, ack: 113)]))
        #expect(result.ended.first?.bytesToServer == 12)
        #expect(result.steps[1].relativeAcknowledgement == 13)
    }

    /// Wireshark counts the refusing RST's seq from 1, as if its side had sent a SYN; it did not,
    /// and on the wire the seq is 0 (RFC 9293 section 3.10.7.1). We show the wire's 0, and a RST's
    /// window as sent, without the "?" of an unknown scale.
    @Test("refused: the RST shows the seq it carries, 0, and its window without a question mark")
    func refusedRelativeNumbers() throws {
        let result = track(try packets([segment(client, server, SYN, seq: 77), segment(server, client, RST | ACK, seq: 0, ack: 78)]))
        #expect(result.steps[1].relativeSequence == 0 && result.steps[1].relativeAcknowledgement == 1)
        #expect(result.steps[1].window == Int(result.steps[1].packet.tcp.window))   // the field as sent
    }

    @Test("a retransmitted SYN-ACK is named")
    func synAckRetransmit() throws {
        let synAck = segment(server, client, SYN | ACK, seq: 900, ack: 101)
        let result = track(try packets([segment(client, server, SYN, seq: 100), synAck, synAck]))
        #expect(result.steps.map(\.step) == [.handshakeSyn, .handshakeSynAck, .synAckRetransmit])
    }

    @Test("refused: SYN answered by RST; the connection ends at once")
    func refused() throws {
        let result = track(try packets([segment(client, server, SYN, seq: 1), segment(server, client, RST | ACK, seq: 0, ack: 2)]), finish: false)
        #expect(result.steps.map(\.step) == [.handshakeSyn, .rst])
        #expect(result.steps[1].resetMeaning == .refused)
        #expect(result.ended.first?.outcome == .refused && result.ended.first?.closedBy == .reset)
        #expect(result.tracker.openCount == 0)
    }

    @Test("RST meanings: abortive close (SO_LINGER 0) versus data after close()")
    func resetMeanings() throws {
        let handshake = [segment(client, server, SYN, seq: 100), segment(server, client, SYN | ACK, seq: 900, ack: 101),
                         segment(client, server, ACK, seq: 101, ack: 901)]
        let abortive = track(try packets(handshake + [segment(server, client, RST | ACK, seq: 901, ack: 101)]))
        #expect(abortive.steps.last?.resetMeaning == .abortiveClose)
        #expect(abortive.ended.first?.outcome == .reset)
        let afterClose = track(try packets(handshake + [
            segment(server, client, FIN | ACK, seq: 901, ack: 101), segment(client, server, ACK | PSH, seq: 101, ack: 902, payload: 3),
            segment(server, client, RST, seq: 902),
        ]))
        #expect(afterClose.steps.last?.resetMeaning == .dataAfterClose)
    }

    @Test("simultaneous close: FINs cross, both sides in TIME_WAIT")
    func simultaneousClose() throws {
        let result = track(try packets(Conversation.simultaneousClose()))
        #expect(result.steps.map(\.step).suffix(4) == [.finActive, .finPassive, .ack, .teardownAck])
        #expect(result.steps[4].simultaneousClose)
        // The ACK after the crossed FINs: its receiver leaves CLOSING for TIME_WAIT; nobody is in CLOSE_WAIT.
        #expect(result.steps[5].acknowledgesFin && result.steps[5].simultaneousClose)
        #expect(StepExplanation.text(for: result.steps[5]).hasSuffix("the FINs crossed, so the server goes from CLOSING to TIME_WAIT"))
        #expect(LadderRenderer.shortText(result.steps[5]) == "client kernel ACKs the FIN (FINs crossed)")
        #expect(result.ended.first?.closedBy == .both && result.ended.first?.timeWait == .both)
        // The same words as the SVG and the page (SVGLadderWriterTests.simultaneousClose): one table.
        #expect(result.steps.suffix(4).map(LadderRenderer.shortText) == [
            "client close() or shutdown(SHUT_WR): active close", "server close() too: FINs crossed",
            "client kernel ACKs the FIN (FINs crossed)", "last ACK: both in TIME_WAIT",
        ])
    }

    @Test("half-close: data after the peer's FIN is marked")
    func halfClose() throws {
        let s = try packets([
            segment(client, server, SYN, seq: 100), segment(server, client, SYN | ACK, seq: 900, ack: 101),
            segment(client, server, ACK, seq: 101, ack: 901), segment(client, server, FIN | ACK, seq: 101, ack: 901),
            segment(server, client, ACK | PSH, seq: 901, ack: 102, payload: 10), segment(client, server, ACK, seq: 102, ack: 911),
        ])
        let result = track(s)
        #expect(result.steps[4].step == .data && result.steps[4].afterPeerFin)
        #expect(result.ended.first?.outcome == .halfClosed)
        #expect(result.steps[4].acknowledgesFin, "the server's data segment also ACKs the client's FIN")
        #expect(StepExplanation.text(for: result.steps[5]).contains("every byte before"))
    }

    @Test("a connection already open when the capture starts is mid-stream, not an error")
    func midstream() throws {
        let s = try packets([
            segment(client, server, ACK | PSH, seq: 5_000, ack: 9_000, payload: 4), segment(server, client, ACK, seq: 9_000, ack: 5_004),
            segment(client, server, FIN | ACK, seq: 5_004, ack: 9_000), segment(server, client, FIN | ACK, seq: 9_000, ack: 5_005),
            segment(client, server, ACK, seq: 5_005, ack: 9_001),
        ])
        let result = track(s)
        #expect(result.steps.map(\.step) == [.midstream, .ack, .finActive, .finPassive, .teardownAck])
        #expect(result.steps[0].client.port == 40_000, "the higher (ephemeral) port is taken for the client")
        // Wireshark's bases mid-stream: one before the first numbers seen, so both sides count from 1.
        #expect(result.steps[0].relativeSequence == 1 && result.steps[0].relativeAcknowledgement == 1)
        #expect(result.steps[1].relativeSequence == 1 && result.steps[1].relativeAcknowledgement == 5)
        #expect(result.ended.first?.midstream == true && result.ended.first?.outcome == .closed)
        #expect(result.ended.first?.handshakeRTT == nil)
    }

    @Test("a capture that begins at the first FIN: that FIN is the active close, the teardown completes")
    func midstreamAtTheFirstFin() throws {
        let result = track(try packets([
            segment(client, server, FIN | ACK, seq: 5_000, ack: 9_000), segment(server, client, FIN | ACK, seq: 9_000, ack: 5_001),
            segment(client, server, ACK, seq: 5_001, ack: 9_001),
        ]), finish: false)
        #expect(result.steps.map(\.step) == [.midstream, .finPassive, .teardownAck])
        #expect(StepExplanation.text(for: result.steps[0]).contains("the client called close() or shutdown(SHUT_WR): active close"))
        let summary = try #require(result.ended.first)
        #expect(summary.outcome == .closed && summary.closedBy == .client && summary.timeWait == .client && summary.midstream)
    }

    @Test("a new SYN on a 4-tuple still in the table starts a new connection (port reuse)")
    func portReuse() throws {
        let s = try packets([
            segment(client, server, SYN, seq: 100), segment(server, client, SYN | ACK, seq: 900, ack: 101),
            segment(client, server, ACK, seq: 101, ack: 901), segment(client, server, SYN, seq: 5_000),
        ])
        let result = track(s)
        #expect(result.steps.map(\.connection) == [1, 1, 1, 2])
        #expect(result.steps[3].step == .handshakeSyn)
        #expect(result.ended.map(\.connection) == [1, 2])
    }

    @Test("segments after the teardown belong to the closed connection, not to a new one")
    func lateSegments() throws {
        let echo = Conversation.echo(client: "10.0.0.1", server: "10.0.0.2")
        var lateAck = echo[8]; lateAck.flags = FixtureSegment.ack
        var reset = echo[9]; reset.flags = FixtureSegment.rst; reset.source = echo[8].source; reset.destination = echo[8].destination
        reset.sourcePort = echo[8].sourcePort; reset.destinationPort = echo[8].destinationPort
        let result = track(try packets(echo + [lateAck, reset]))
        #expect(result.steps.suffix(2).map(\.connection) == [1, 1])
        // The bare segment one byte before the server's next sequence number (its FIN's) is a
        // keep-alive by Wireshark's rule: the analysis goes on over late segments.
        #expect(result.steps.suffix(2).map(\.step) == [.probe, .rst])
        #expect(result.steps.suffix(2).first?.findings == [.keepAlive])
        #expect(result.steps.last?.resetMeaning == .lateSegment)
        #expect(result.ended.count == 1)
        let reuse = track(try packets(echo + [echo[0]]))
        #expect(reuse.steps.last?.connection == 2 && reuse.steps.last?.step == .handshakeSyn)
    }

    @Test("a 4-tuple closed twice: forgetting the older close does not forget the newer one")
    func reusedTupleStaysRemembered() throws {
        let tracker = ConnectionTracker()
        func refuse(_ port: UInt16) throws {
            for packet in try packets([segment(("10.0.0.1", port), server, SYN, seq: 1), segment(server, ("10.0.0.1", port), RST | ACK, seq: 0, ack: 2)]) {
                _ = tracker.track(packet)
            }
        }
        try refuse(1)                                   // the 4-tuple's first close: oldest in the ring
        for port in 2...2_000 { try refuse(UInt16(port)) }
        try refuse(1)                                   // closed again, newer
        for port in 2_001...6_000 { try refuse(UInt16(port)) }   // the first close leaves the ring
        let late = try packets([segment(server, ("10.0.0.1", 1), RST, seq: 5)])[0]
        let tracked = tracker.track(late)
        #expect(tracked.step == .rst && tracked.resetMeaning == .lateSegment, "still known as the newer closed connection")
        #expect(tracker.openCount == 0)
    }

    @Test("the table finds every open connection through thousands of random opens and resets")
    func tableAgreesWithModel() throws {
        let tracker = ConnectionTracker()
        var open: [UInt16: Int] = [:]   // client port -> connection number
        var random = DecoderFuzzTests.Random(state: 0x7AB1_E000_0000_0001)
        for round in 0..<20_000 {
            let port = UInt16(30_000 + random.below(1_500))   // past 768 open: the index grows
            let me = ("10.9.0.1", port)
            let packet: FixtureSegment
            if open[port] == nil {
                packet = segment(me, server, SYN, seq: UInt32(round))
            } else if random.below(2) == 0 {
                packet = segment(server, me, RST | ACK, seq: 0, ack: 1)
            } else {
                packet = segment(me, server, ACK, seq: 1, ack: 1)
            }
            let tracked = tracker.track(try packets([packet])[0])
            tracker.drainEnded { _ in }
            if let known = open[port] {
                #expect(tracked.connection == known, "round \(round)")
                if tracked.step == .rst { open[port] = nil }
            } else {
                #expect(tracked.step == .handshakeSyn)
                open[port] = tracked.connection
            }
            #expect(tracker.openCount == open.count, "round \(round)")
        }
    }

    @Test("memory stays bounded: past the limit the idlest connections are evicted")
    func eviction() throws {
        var all: [FixtureSegment] = []
        for port in 0..<1_000 { all.append(segment(("10.0.0.1", UInt16(20_000 + port)), server, SYN, seq: UInt32(port))) }
        let result = track(try packets(all), limit: 100, finish: false)
        #expect(result.tracker.openCount <= 100)
        #expect(result.ended.count >= 900)
        #expect(result.ended.allSatisfy { $0.outcome == .evicted })
        #expect(result.ended.first?.connection == 1, "the oldest go first")
    }

    @Test("text explanations name the system calls")
    func explanations() throws {
        let result = track(try packets(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2")), finish: false)
        let texts = result.steps.map { StepExplanation.text(for: $0) }
        #expect(texts[0].contains("connect()") && texts[0].contains("1/3"))
        #expect(texts[1].contains("accept() is not involved"))
        #expect(texts[2].contains("accept queue"))
        #expect(texts[7].contains("close()"))
        #expect(texts[9].contains("TIME_WAIT"))
        #expect(StepExplanation.summary(result.ended[0]).contains("closed by the client"))
    }

    @Test("a client's abortive RST names only causes a client can have: no listener")
    func clientResetHasNoListenerCause() {
        let sentence = StepWording.words("rst/abortive").sentence
        let client = StepWording.fill(sentence, ["sender": "client", "receiver": "server",
                                                 "listener": StepExplanation.listenerClause(toServer: true)])
        #expect(client.contains("SO_LINGER 0"))
        #expect(!client.contains("listener"), "\(client)")
        let server = StepWording.fill(sentence, ["sender": "server", "receiver": "client",
                                                 "listener": StepExplanation.listenerClause(toServer: false)])
        #expect(server.contains("a listener closed before accept() took it"))
    }
}
