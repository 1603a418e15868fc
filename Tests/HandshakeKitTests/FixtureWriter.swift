import Foundation

/// Writes capture files with the link types and events loopback cannot produce: VLAN tags,
/// Linux cooked headers, BSD loopback, raw IP, nanosecond pcap, pcapng, simultaneous close,
/// truncated and malformed packets. Everything is built byte by byte from the RFC layouts, so the
/// files are independent of our decoder; tshark then checks that we read them as it does.
enum FixtureLink: String, CaseIterable {
    case ethernet, vlan, qinq, sll, sll2, null, loop, raw, ipv4Only, ipv6Only

    /// The LINKTYPE_ value stored in the file header.
    var linkType: UInt32 {
        switch self {
        case .ethernet, .vlan, .qinq: return 1
        case .sll: return 113
        case .sll2: return 276
        case .null: return 0
        case .loop: return 108
        case .raw: return 101
        case .ipv4Only: return 228
        case .ipv6Only: return 229
        }
    }

    /// The link header in front of an IP packet of `version` (4 or 6).
    func header(version: Int) -> [UInt8] {
        let etherType: [UInt8] = version == 4 ? [0x08, 0x00] : [0x86, 0xDD]
        let macs: [UInt8] = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]
        switch self {
        case .ethernet: return macs + etherType
        case .vlan: return macs + [0x81, 0x00, 0x00, 0x2A] + etherType              // VLAN 42
        case .qinq: return macs + [0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x2A] + etherType
        case .sll:   // packet type, ARPHRD, address length, 8-byte address, protocol
            return [0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 2, 0, 0] + etherType
        case .sll2:  // protocol, reserved, ifindex, ARPHRD, packet type, address length, address
            return etherType + [0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 2, 0, 0]
        case .null:  // AF_INET 2 / macOS's AF_INET6 30, in the (little-endian) capturing host's order
            return version == 4 ? [2, 0, 0, 0] : [30, 0, 0, 0]
        case .loop:  // big-endian; OpenBSD's AF_INET6 is 24
            return version == 4 ? [0, 0, 0, 2] : [0, 0, 0, 24]
        case .raw, .ipv4Only, .ipv6Only:
            return []
        }
    }
}

/// One TCP segment to put in a fixture.
struct FixtureSegment {
    var source: String
    var destination: String
    var sourcePort: UInt16
    var destinationPort: UInt16
    var flags: UInt8
    var sequence: UInt32
    var acknowledgement: UInt32
    var payload: [UInt8] = []
    /// TCP options bytes (a multiple of 4).
    var tcpOptions: [UInt8] = []
    /// IPv4: add a 4-byte options area (NOP NOP NOP EOL). IPv6: add hop-by-hop and destination
    /// options extension headers.
    var ipExtras = false
    /// The advertised receive window (0: a zero-window advertisement).
    var window: UInt16 = 65_535

    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10

    var isIPv6: Bool { source.contains(":") }

    /// The IP packet: IPv4 or IPv6 header, TCP header, payload.
    func ipPacket() -> [UInt8] {
        var tcp: [UInt8] = []
        tcp += be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgement)
        tcp += [UInt8((20 + tcpOptions.count) / 4) << 4, flags] + be16(window) + [0, 0, 0, 0]
        tcp += tcpOptions + payload
        if isIPv6 {
            var next: UInt8 = 6
            var extensions: [UInt8] = []
            if ipExtras {
                // Hop-by-hop (0) -> destination options (60) -> TCP, each 8 bytes of padding.
                extensions = [60, 0, 1, 4, 0, 0, 0, 0] + [6, 0, 1, 4, 0, 0, 0, 0]
                next = 0
            }
            let payloadLength = UInt16(extensions.count + tcp.count)
            return [0x60, 0, 0, 0] + be16(payloadLength) + [next, 64] + address(source) + address(destination) + extensions + tcp
        }
        let options: [UInt8] = ipExtras ? [1, 1, 1, 0] : []
        let headerLength = 20 + options.count
        let total = UInt16(headerLength + tcp.count)
        return [UInt8(0x40 | headerLength / 4), 0] + be16(total) + [0, 1, 0x40, 0, 64, 6, 0, 0]
            + address(source) + address(destination) + options + tcp
    }

    func frame(_ link: FixtureLink) -> [UInt8] {
        link.header(version: isIPv6 ? 6 : 4) + ipPacket()
    }
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)] }

func address(_ text: String) -> [UInt8] {
    if text.contains(":") {
        var raw = in6_addr()
        precondition(inet_pton(AF_INET6, text, &raw) == 1)
        return withUnsafeBytes(of: &raw) { Array($0) }
    }
    var raw = in_addr()
    precondition(inet_pton(AF_INET, text, &raw) == 1)
    return withUnsafeBytes(of: &raw) { Array($0) }
}

/// A frame with its capture time and, if it was cut short, its length on the wire.
struct FixtureFrame {
    var seconds: UInt32
    var fraction: UInt32
    var bytes: [UInt8]
    var wireLength: Int?
}

enum FixtureWriter {
    /// A classic pcap file (little-endian), microsecond or nanosecond magic.
    static func pcap(_ frames: [FixtureFrame], linkType: UInt32, nanosecond: Bool = false, snaplen: UInt32 = 65_535) -> [UInt8] {
        var file = le32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4) + le16(2) + le16(4) + le32(0) + le32(0) + le32(snaplen) + le32(linkType)
        for frame in frames {
            file += le32(frame.seconds) + le32(frame.fraction) + le32(UInt32(frame.bytes.count))
                + le32(UInt32(frame.wireLength ?? frame.bytes.count)) + frame.bytes
        }
        return file
    }

    /// A pcapng file: section header, one interface (with if_tsresol), enhanced packet blocks.
    static func pcapng(_ frames: [FixtureFrame], linkType: UInt32, nanosecond: Bool) -> [UInt8] {
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            return le32(type) + le32(length) + padded + le32(length)
        }
        var file = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
        let resolution: [UInt8] = le16(9) + le16(1) + [nanosecond ? 9 : 6, 0, 0, 0] + le16(0) + le16(0)
        file += block(1, le16(UInt16(linkType)) + le16(0) + le32(65_535) + resolution)
        for frame in frames {
            let units = UInt64(frame.seconds) * (nanosecond ? 1_000_000_000 : 1_000_000) + UInt64(frame.fraction)
            file += block(6, le32(0) + le32(UInt32(units >> 32)) + le32(UInt32(units & 0xFFFF_FFFF))
                + le32(UInt32(frame.bytes.count)) + le32(UInt32(frame.wireLength ?? frame.bytes.count)) + frame.bytes)
        }
        return file
    }
}

/// Whole conversations, with correct sequence and acknowledgement numbers.
enum Conversation {
    static let mssOptions: [UInt8] = [2, 4, 0xFF, 0xD7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]

    /// Handshake, "Hello" echoed, the client closes first, last ACK: ten segments.
    static func echo(client: String, server: String, clientPort: UInt16 = 43_994, serverPort: UInt16 = 5_000,
                     clientISN: UInt32 = 416_747_519, serverISN: UInt32 = 1_075_903_421, ipExtras: Bool = false) -> [FixtureSegment] {
        let hello = Array("Hello".utf8)
        func c(_ flags: UInt8, _ seq: UInt32, _ ack: UInt32, _ payload: [UInt8] = [], _ options: [UInt8] = []) -> FixtureSegment {
            FixtureSegment(source: client, destination: server, sourcePort: clientPort, destinationPort: serverPort,
                           flags: flags, sequence: clientISN &+ seq, acknowledgement: ack == 0 ? 0 : serverISN &+ ack,
                           payload: payload, tcpOptions: options, ipExtras: ipExtras)
        }
        func s(_ flags: UInt8, _ seq: UInt32, _ ack: UInt32, _ payload: [UInt8] = [], _ options: [UInt8] = []) -> FixtureSegment {
            FixtureSegment(source: server, destination: client, sourcePort: serverPort, destinationPort: clientPort,
                           flags: flags, sequence: serverISN &+ seq, acknowledgement: clientISN &+ ack,
                           payload: payload, tcpOptions: options, ipExtras: ipExtras)
        }
        let A = FixtureSegment.ack, P = FixtureSegment.psh, F = FixtureSegment.fin
        return [
            c(FixtureSegment.syn, 0, 0, [], mssOptions),
            s(FixtureSegment.syn | A, 0, 1, [], mssOptions),
            c(A, 1, 1),
            c(P | A, 1, 1, hello),
            s(A, 1, 6),
            s(P | A, 1, 6, hello),
            c(A, 6, 6),
            c(F | A, 6, 6),
            s(F | A, 6, 7),
            c(A, 7, 7),
        ]
    }

    /// Handshake, then both sides close at once: the FINs cross, each acknowledges the other.
    static func simultaneousClose(client: String = "10.0.0.1", server: String = "10.0.0.2") -> [FixtureSegment] {
        let handshake = Array(echo(client: client, server: server).prefix(3))
        let c = handshake[2], s = handshake[1]
        var clientFin = c; clientFin.flags = FixtureSegment.fin | FixtureSegment.ack
        var serverFin = s; serverFin.flags = FixtureSegment.fin | FixtureSegment.ack
        serverFin.sequence = s.sequence &+ 1; serverFin.tcpOptions = []
        var clientAck = c; clientAck.sequence = c.sequence &+ 1; clientAck.acknowledgement = serverFin.sequence &+ 1
        var serverAck = serverFin; serverAck.flags = FixtureSegment.ack
        serverAck.sequence = serverFin.sequence &+ 1; serverAck.acknowledgement = clientFin.sequence &+ 1
        return handshake + [clientFin, serverFin, clientAck, serverAck]
    }

    /// Frames one microsecond (or nanosecond) apart from 1700000000.
    static func frames(_ segments: [FixtureSegment], link: FixtureLink, start: UInt32 = 1_700_000_000) -> [FixtureFrame] {
        segments.enumerated().map { index, segment in
            FixtureFrame(seconds: start, fraction: UInt32(10 + index * 17), bytes: segment.frame(link))
        }
    }
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("handshake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
