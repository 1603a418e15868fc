import Testing
@testable import HandshakeKit

/// Zeek's conn_state and history, against hand-labelled conversations (Zeek itself is not
/// installable here): each code loopback or the fixture writer can produce, and the letter rules.
@Suite("Zeek codes")
struct ZeekCodeTests {
    /// The only summary of a conversation: its code and history.
    func zeek(_ segments: [FixtureSegment]) throws -> (ZeekConnState, String) {
        let summaries = track(try packets(segments)).ended
        let summary = try #require(summaries.count == 1 ? summaries.first : nil, "\(summaries.map(\.history))")
        return (summary.connState, summary.history)
    }

    let syn = segment(client, server, SYN, seq: 100)
    let synAck = segment(server, client, SYN | ACK, seq: 900, ack: 101)
    let ack = segment(client, server, ACK, seq: 101, ack: 901)
    var handshake: [FixtureSegment] { [syn, synAck, ack] }

    @Test("S0: a SYN, sent again, never answered") func s0() throws {
        #expect(try zeek([syn, syn]) == (.S0, "S"))
    }

    @Test("S1: established, still open") func s1() throws {
        #expect(try zeek(handshake + [segment(client, server, PSH | ACK, seq: 101, ack: 901, payload: 5)]) == (.S1, "ShAD"))
    }

    @Test("SF: the echo, opened and closed normally") func sf() throws {
        let (code, history) = try zeek(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2"))
        #expect((code, history) == (.SF, "ShADadFf"))
        #expect(code.meaning == "opened and closed normally")
    }

    @Test("REJ: SYN answered by RST") func rej() throws {
        #expect(try zeek([syn, segment(server, client, RST | ACK, seq: 0, ack: 101)]) == (.REJ, "Sr"))
    }

    @Test("S2 and S3: one side's FIN, no reply") func halfClosed() throws {
        #expect(try zeek(handshake + [segment(client, server, FIN | ACK, seq: 101, ack: 901)]) == (.S2, "ShAF"))
        #expect(try zeek(handshake + [segment(server, client, FIN | ACK, seq: 901, ack: 101)]) == (.S3, "ShAf"))
    }

    @Test("RSTO and RSTR: aborted after the handshake") func resets() throws {
        #expect(try zeek(handshake + [segment(client, server, RST | ACK, seq: 101, ack: 901)]) == (.RSTO, "ShAR"))
        #expect(try zeek(handshake + [segment(server, client, RST | ACK, seq: 901, ack: 101)]) == (.RSTR, "ShAr"))
    }

    @Test("RSTOS0 and SH: the client's SYN, then its RST or FIN, no SYN-ACK") func clientGivesUp() throws {
        #expect(try zeek([syn, segment(client, server, RST, seq: 101)]) == (.RSTOS0, "SR"))
        #expect(try zeek([syn, segment(client, server, FIN, seq: 101)]) == (.SH, "SF"))
    }

    @Test("RSTRH and SHR: the server's SYN-ACK, then its RST or FIN, no SYN seen (direction flipped)") func noSynSeen() throws {
        #expect(try zeek([synAck, segment(server, client, RST | ACK, seq: 901, ack: 101)]) == (.RSTRH, "^hr"))
        #expect(try zeek([synAck, segment(server, client, FIN | ACK, seq: 901, ack: 101)]) == (.SHR, "^hf"))
    }

    @Test("OTH: mid-stream traffic, no SYN") func midstream() throws {
        #expect(try zeek([segment(client, server, PSH | ACK, seq: 500, ack: 700, payload: 3),
                          segment(server, client, ACK, seq: 700, ack: 503)]) == (.OTH, "Da"))
    }

    @Test("t: a retransmitted payload; a, d once per direction") func retransmission() throws {
        let data = segment(client, server, PSH | ACK, seq: 101, ack: 901, payload: 5)
        #expect(try zeek(handshake + [data, data, segment(server, client, ACK, seq: 901, ack: 106), segment(server, client, ACK, seq: 901, ack: 106)]).1 == "ShADTa")
    }

    @Test("w: zero windows counted logarithmically, a 2nd letter at the 10th") func zeroWindow() throws {
        var zero = segment(server, client, ACK, seq: 901, ack: 101)
        zero.window = 0
        var history = ZeekHistory()
        for packet in try packets(Array(repeating: zero, count: 10)) { history.record(packet.tcp, fromOriginator: false) }
        #expect(history.text == "waw")
    }

    @Test("s, h, f, r repeat only with a new sequence number; q and i for odd flag sets") func letterRules() throws {
        var history = ZeekHistory()
        let segments = [segment(client, server, FIN | ACK, seq: 5, ack: 1), segment(client, server, FIN | ACK, seq: 5, ack: 1),
                        segment(client, server, FIN | ACK, seq: 6, ack: 1),
                        segment(server, client, SYN | FIN, seq: 9), segment(server, client, SYN | FIN, seq: 9),
                        segment(client, server, FIN | RST, seq: 7)]
        for packet in try packets(segments) { history.record(packet.tcp, fromOriginator: packet.source.port == client.1) }
        #expect(history.text == "FFqsfIFR")
    }

    @Test("the text summary explains the code in words") func text() throws {
        let summary = try #require(track(try packets(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2"))).ended.first)
        #expect(StepExplanation.summary(summary).contains("SF: opened and closed normally, history ShADadFf"))
    }
}
