@preconcurrency import Glibc
import SocketCore
import Timeline

/// The few fields of an IP packet a `link-drop` event names: addresses, ports, TCP flags, the
/// sequence number and the payload length. Read from the raw packet a TUN device gives (it
/// starts with the IPv4 or IPv6 header), every length checked before it is read. Only dropped
/// packets are decoded: forwarding never looks past the first byte.
public struct PacketSummary: Sendable, Equatable {
    public var source = "?"
    public var destination = "?"
    public var sourcePort: Int?
    public var destinationPort: Int?
    public var flags: [String] = []
    public var sequence: UInt32?
    public var payloadLength = 0

    /// TCP's flag bits, byte 13 of its header, named in bit order as handshake-watch names them
    /// (`SYN,ACK`, `PSH,ACK`), so a `link-drop` and a `packet` event spell flags alike.
    static let flagNames: [(UInt8, String)] = [
        (0x01, "FIN"), (0x02, "SYN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"),
        (0x40, "ECE"), (0x80, "CWR"),
    ]

    public init(_ packet: UnsafeRawBufferPointer) {
        guard let first = packet.first else { return }
        var protocolNumber: UInt8
        var headerLength: Int
        var payload: Int
        switch first >> 4 {
        case 4:
            // IPv4: version/IHL, TOS, total length (2-3), ..., protocol (9), source (12-15), destination (16-19).
            guard packet.count >= 20 else { return }
            headerLength = Int(first & 0x0F) * 4
            let total = Int(packet[2]) << 8 | Int(packet[3])
            protocolNumber = packet[9]
            source = Self.address(packet, at: 12, count: 4)
            destination = Self.address(packet, at: 16, count: 4)
            payload = min(total, packet.count) - headerLength
        case 6:
            // IPv6: payload length (4-5), next header (6), source (8-23), destination (24-39).
            // Extension headers are not followed: the protocol is then shown as it is, without ports.
            guard packet.count >= 40 else { return }
            headerLength = 40
            protocolNumber = packet[6]
            source = Self.address(packet, at: 8, count: 16)
            destination = Self.address(packet, at: 24, count: 16)
            payload = min(Int(packet[4]) << 8 | Int(packet[5]), packet.count - 40)
        default:
            return
        }
        guard headerLength >= 20, payload >= 0 else { return }
        payloadLength = payload
        let body = headerLength
        switch protocolNumber {
        case 6 where packet.count >= body + 20:
            // TCP: ports (0-3), sequence number (4-7), data offset (12), flags (13).
            sourcePort = Int(packet[body]) << 8 | Int(packet[body + 1])
            destinationPort = Int(packet[body + 2]) << 8 | Int(packet[body + 3])
            sequence = UInt32(packet[body + 4]) << 24 | UInt32(packet[body + 5]) << 16
                | UInt32(packet[body + 6]) << 8 | UInt32(packet[body + 7])
            let offset = Int(packet[body + 12] >> 4) * 4
            let bits = packet[body + 13]
            flags = Self.flagNames.filter { bits & $0.0 != 0 }.map(\.1)
            payloadLength = max(0, payload - offset)
        case 17 where packet.count >= body + 8:
            // UDP: ports (0-3), length (4-5) including its 8-byte header.
            sourcePort = Int(packet[body]) << 8 | Int(packet[body + 1])
            destinationPort = Int(packet[body + 2]) << 8 | Int(packet[body + 3])
            payloadLength = max(0, payload - 8)
        default:
            break
        }
    }

    /// The `link-drop` event for this packet.
    public func dropEvent(time: EpochTime, direction: LinkDirection.Name,
                          reason: TimelineEvent.LinkDropReason) -> TimelineEvent {
        .linkDrop(time: time, dir: direction.rawValue, reason: reason, src: source, sport: sourcePort,
                  dst: destination, dport: destinationPort, flags: flags, seq: sequence, len: payloadLength)
    }

    private static func address(_ packet: UnsafeRawBufferPointer, at offset: Int, count: Int) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = count == 4 ? AF_INET : AF_INET6
        _ = inet_ntop(family, packet.baseAddress! + offset, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
