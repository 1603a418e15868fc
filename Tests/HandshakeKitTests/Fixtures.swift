import Foundation
import HandshakeKit
import Testing

/// The generated capture files the offline tests decode: every link type, pcapng and nanosecond
/// timestamps, a simultaneous close, and a file of broken packets. `skipped` lists the frame
/// numbers (from 1) that handshake-watch must skip with a warning.
struct Fixture: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var skipped: [Int: String] = [:]
    var description: String { name }

    static let all: [Fixture] = {
        var fixtures: [Fixture] = []
        for link in FixtureLink.allCases {
            let v6 = link == .ipv6Only || link == .null || link == .loop
            let segments = v6 ? Conversation.echo(client: "2001:db8::1", server: "2001:db8::2")
                              : Conversation.echo(client: "192.168.1.10", server: "192.168.1.20", ipExtras: link == .vlan)
            fixtures.append(Fixture(name: "echo-\(link.rawValue).pcap",
                                    bytes: FixtureWriter.pcap(Conversation.frames(segments, link: link), linkType: link.linkType)))
        }
        let v6Extensions = Conversation.echo(client: "fe80::1", server: "2001:db8::42", ipExtras: true)
        fixtures.append(Fixture(name: "ipv6-extension-headers.pcap",
                                bytes: FixtureWriter.pcap(Conversation.frames(v6Extensions, link: .ethernet), linkType: 1)))
        let echo4 = Conversation.echo(client: "127.0.0.1", server: "127.0.0.1")
        fixtures.append(Fixture(name: "nanosecond.pcap",
                                bytes: FixtureWriter.pcap(Conversation.frames(echo4, link: .ethernet), linkType: 1, nanosecond: true)))
        fixtures.append(Fixture(name: "microsecond.pcapng",
                                bytes: FixtureWriter.pcapng(Conversation.frames(echo4, link: .sll2), linkType: 276, nanosecond: false)))
        fixtures.append(Fixture(name: "nanosecond.pcapng",
                                bytes: FixtureWriter.pcapng(Conversation.frames(Conversation.echo(client: "::1", server: "::1"), link: .ethernet),
                                                            linkType: 1, nanosecond: true)))
        fixtures.append(Fixture(name: "simultaneous-close.pcap",
                                bytes: FixtureWriter.pcap(Conversation.frames(Conversation.simultaneousClose(), link: .raw), linkType: 101)))
        // A capture that starts after the handshake: Wireshark counts both sides from 1.
        let midstream = Array(Conversation.echo(client: "10.9.0.1", server: "10.9.0.2").dropFirst(3))
        fixtures.append(Fixture(name: "midstream.pcap",
                                bytes: FixtureWriter.pcap(Conversation.frames(midstream, link: .ethernet), linkType: 1)))
        fixtures.append(malformed)
        fixtures.append(lengthsAndFragments)
        return fixtures
    }()

    /// IP lengths that claim more than the frame (Wireshark believes the frame), fragments (pieces
    /// of UDP are not TCP: ignored, no warning; a piece of TCP is skipped with one), TCP options
    /// cut by the snapshot length (decoded as far as captured, not skipped), and short frames
    /// padded by Ethernet with non-zero bytes (not payload: the length comes from the IP header).
    static var lengthsAndFragments: Fixture {
        let echo = Conversation.echo(client: "10.1.1.1", server: "10.1.1.2")
        let echo6 = Conversation.echo(client: "2001:db8::1", server: "2001:db8::2", ipExtras: true)
        var frames: [FixtureFrame] = []
        func add(_ bytes: [UInt8], wire: Int? = nil) {
            frames.append(FixtureFrame(seconds: 1_700_000_000, fraction: UInt32(frames.count), bytes: bytes, wireLength: wire))
        }
        add(echo[0].frame(.ethernet))                                                                      // 1 SYN
        var long4 = echo[3].frame(.ethernet); long4[16] = 0x05; long4[17] = 0xDC; add(long4)               // 2 total 1500
        var long6 = echo6[3].frame(.ethernet); long6[18] = 0x05; long6[19] = 0x78; add(long6)              // 3 payload 1400
        var cut = echo[5].frame(.ethernet); cut[16] = 0x05; cut[17] = 0xDC
        add(Array(cut.prefix(14 + 20 + 20 + 2)), wire: cut.count + 50)                                     // 4 cut, 1500 > wire
        var udpPiece = echo[2].frame(.ethernet); udpPiece[14 + 9] = 17; udpPiece[20] = 0; udpPiece[21] = 100
        add(udpPiece)                                                                                      // 5 UDP, offset 800
        var udpPiece6 = echo6[2].frame(.ethernet)
        udpPiece6[14 + 6] = 44                                                                             // 6 IPv6 fragment
        udpPiece6.replaceSubrange(54..<62, with: [17, 0, 0x00, 0x51, 0, 0, 0, 9])                          //   of UDP, offset 80, M
        add(udpPiece6)
        var tcpPiece = echo[2].frame(.ethernet); tcpPiece[20] = 0; tcpPiece[21] = 100; add(tcpPiece)       // 7 TCP, offset 800
        add(echo[1].frame(.ethernet))                                                                      // 8 SYN-ACK
        let syn = echo[0].frame(.ethernet)
        add(Array(syn.prefix(14 + 20 + 24)), wire: syn.count)                                              // 9 -s cut the options
        add(echo[2].frame(.ethernet) + [UInt8](repeating: 0xEE, count: 6))                                 // 10 padded to 60
        add(echo[2].frame(.vlan) + [UInt8](repeating: 0xEE, count: 6))                                     // 11 VLAN, padded to 64
        return Fixture(name: "lengths-and-fragments.pcap", bytes: FixtureWriter.pcap(frames, linkType: 1),
                       skipped: [7: "IPv4 fragment (not reassembled)"])
    }

    /// Good frames around every kind of broken one.
    static var malformed: Fixture {
        let echo = Conversation.echo(client: "10.1.1.1", server: "10.1.1.2")
        let ipv6 = Conversation.echo(client: "2001:db8::1", server: "2001:db8::2", ipExtras: true)
        let syn = echo[0].frame(.ethernet)
        var frames: [FixtureFrame] = []
        func add(_ bytes: [UInt8], wire: Int? = nil) {
            frames.append(FixtureFrame(seconds: 1_700_000_000, fraction: UInt32(frames.count), bytes: bytes, wireLength: wire))
        }
        add(syn)                                                     // 1 good
        add(Array(echo[1].frame(.ethernet).prefix(14 + 20 + 10)), wire: echo[1].frame(.ethernet).count)  // 2 cut inside TCP
        var badIHL = echo[2].frame(.ethernet); badIHL[14] = 0x43; add(badIHL)                              // 3 IHL 3
        var badOffset = echo[2].frame(.ethernet); badOffset[14 + 20 + 12] = 0x30; add(badOffset)          // 4 data offset 3
        add(Array(syn.prefix(10)), wire: syn.count)                                                        // 5 cut in Ethernet
        var badTotal = echo[2].frame(.ethernet); badTotal[16] = 0; badTotal[17] = 12; add(badTotal)       // 6 total 12 < 20
        add(Array(ipv6[0].frame(.ethernet).prefix(14 + 40 + 1)), wire: ipv6[0].frame(.ethernet).count)   // 7 cut in ext header
        var longOptions = echo[2].frame(.ethernet); longOptions[14 + 20 + 12] = 0xF0; add(longOptions)    // 8 options past the end
        add(echo[1].frame(.ethernet))                                                                      // 9 good
        var udp = echo[2].frame(.ethernet); udp[14 + 9] = 17; add(udp)                                    // 10 UDP: ignored
        var tooLong = echo[3].frame(.ethernet); tooLong[16] = 0; tooLong[17] = 30; add(tooLong)           // 11 IP says 30 < 20+20
        return Fixture(name: "malformed.pcap", bytes: FixtureWriter.pcap(frames, linkType: 1), skipped: [
            2: "truncated TCP header", 3: "bad IPv4 header length 12", 4: "bad TCP header length 12",
            5: "truncated Ethernet header", 6: "bad IPv4 total length 12", 7: "truncated IPv6 extension header",
            8: "TCP header longer than the IP payload", 11: "TCP header longer than the IP payload",
        ])
    }
}

/// Replays a capture file through `renderer`, as `handshake-watch -r FILE` does (no BPF filter,
/// no pacing): the tests that compare what each packet becomes read every capture this way.
func replayCapture(_ path: String, into renderer: some Renderer) throws {
    let capture = try Capture.offline(path: path)
    let linkLayer = try #require(LinkLayer(dlt: capture.linkType))
    let state = WatchState()
    let loop = CaptureLoop(capture: capture, linkLayer: linkLayer, tracker: ConnectionTracker(), count: nil,
                           replay: Replay(pace: nil, step: false, state: state), state: state)
    _ = loop.run(renderer)
}
