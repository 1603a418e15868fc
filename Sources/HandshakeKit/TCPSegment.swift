/// The TCP flags byte (plus the two ECN bits): which control signals a segment carries.
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// "No more data from sender": close() or shutdown(SHUT_WR) was called.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// "Synchronize sequence numbers": the first segment each side sends.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// "Reset": abort the connection.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// "Push": hand the data to the application now.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// The acknowledgement number is valid (every segment after the first SYN).
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    /// ECN-Echo and Congestion Window Reduced (RFC 3168).
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// The names in bit order, as the JSON output lists them.
    public static let names: [(TCPFlags, StaticString)] = [
        (.fin, "FIN"), (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"),
        (.ack, "ACK"), (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"),
    ]

    /// `SYN,ACK`, or `none`.
    public var description: String {
        let names = Self.names.filter { contains($0.0) }.map { "\($0.1)" }
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
}

/// The TCP options a handshake negotiates (RFC 9293, 7323, 2018), decoded for display.
public struct TCPOptions: Sendable, Equatable {
    /// Maximum segment size the sender can receive (SYN only).
    public var mss: UInt16?
    /// Window scale shift count (SYN only).
    public var windowScale: UInt8?
    /// SACK permitted (SYN only).
    public var sackPermitted = false
    /// Number of SACK blocks carried (selective acknowledgements).
    public var sackBlocks = 0
    /// Timestamps: TSval and TSecr, used for RTT measurement and PAWS.
    public var timestamp: (value: UInt32, echo: UInt32)?

    public init() {}

    public static func == (a: TCPOptions, b: TCPOptions) -> Bool {
        a.mss == b.mss && a.windowScale == b.windowScale && a.sackPermitted == b.sackPermitted
            && a.sackBlocks == b.sackBlocks && a.timestamp?.value == b.timestamp?.value
            && a.timestamp?.echo == b.timestamp?.echo
    }

    /// `mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 7` in tcpdump's spirit.
    public var summary: String {
        var parts: [String] = []
        if let mss { parts.append("mss \(mss)") }
        if sackPermitted { parts.append("sackOK") }
        if let timestamp { parts.append("TS val \(timestamp.value) ecr \(timestamp.echo)") }
        if let windowScale { parts.append("wscale \(windowScale)") }
        if sackBlocks > 0 { parts.append("sack \(sackBlocks)") }
        return parts.joined(separator: ",")
    }

    /// Walks the options area (kind, length, value...). Malformed options end the walk: they are
    /// for display only and the segment is still valid TCP for following the connection.
    @inline(__always)
    init(_ frame: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        var cursor = start
        while cursor < end {
            let kind = frame.u8(cursor)
            if kind == 0 { break }                       // end of option list
            if kind == 1 { cursor += 1; continue }       // no-operation (padding)
            guard cursor + 1 < end else { break }
            let length = Int(frame.u8(cursor + 1))
            guard length >= 2, cursor + length <= end else { break }
            switch (kind, length) {
            case (2, 4): mss = frame.u16(cursor + 2)
            case (3, 3): windowScale = frame.u8(cursor + 2)
            case (4, 2): sackPermitted = true
            case (5, _): sackBlocks = (length - 2) / 8
            case (8, 10): timestamp = (frame.u32(cursor + 2), frame.u32(cursor + 6))
            default: break
            }
            cursor += length
        }
    }
}

/// A TCP header (RFC 9293 §3.1) and the length of the data behind it.
///
///    |          Source Port          |       Destination Port        |
///    |                        Sequence Number                        |
///    |                    Acknowledgment Number                      |
///    |  Data |       |C|E|U|A|P|R|S|F|                               |
///    | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
///    |           Checksum            |         Urgent Pointer        |
///    |                    Options                    |    Padding    |
public struct TCPSegment: Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The raw 32-bit sequence number: the number of the first payload byte (or of the SYN/FIN).
    public var sequence: UInt32
    /// The raw 32-bit acknowledgement number: the next byte the sender expects (valid with ACK).
    public var acknowledgement: UInt32
    public var flags: TCPFlags
    /// The receive window, before window scaling.
    public var window: UInt16
    /// Data Offset × 4: 20 without options, up to 60.
    public var headerLength: Int
    /// Payload bytes, from the IP header's length (the capture may hold fewer: small snaplen).
    public var payloadLength: Int
    public var options: TCPOptions

    /// Decodes the TCP header at `offset`; `ipPayloadLength` is what the IP header says follows it.
    @inline(__always)
    public init(_ frame: UnsafeRawBufferPointer, at offset: Int, ipPayloadLength: Int) throws(DecodeError) {
        guard ipPayloadLength >= 20 else { throw .tcpHeaderBeyondIPPayload }
        guard frame.count >= offset + 20 else { throw .truncatedTCPHeader }
        headerLength = Int(frame.u8(offset + 12) >> 4) * 4
        guard headerLength >= 20 else { throw .badTCPHeaderLength(headerLength) }
        guard frame.count >= offset + headerLength else { throw .truncatedTCPOptions }
        guard ipPayloadLength >= headerLength else { throw .tcpHeaderBeyondIPPayload }
        sourcePort = frame.u16(offset)
        destinationPort = frame.u16(offset + 2)
        sequence = frame.u32(offset + 4)
        acknowledgement = frame.u32(offset + 8)
        flags = TCPFlags(rawValue: frame.u8(offset + 13))
        window = frame.u16(offset + 14)
        payloadLength = ipPayloadLength - headerLength
        options = headerLength > 20 ? TCPOptions(frame, from: offset + 20, to: offset + headerLength) : TCPOptions()
    }
}
