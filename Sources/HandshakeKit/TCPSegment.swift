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
        guard ipPayloadLength >= headerLength else { throw .tcpHeaderBeyondIPPayload }
        sourcePort = frame.u16(offset)
        destinationPort = frame.u16(offset + 2)
        sequence = frame.u32(offset + 4)
        acknowledgement = frame.u32(offset + 8)
        flags = TCPFlags(rawValue: frame.u8(offset + 13))
        window = frame.u16(offset + 14)
        payloadLength = ipPayloadLength - headerLength
        // Options cut off by a small snapshot length (-s 64) are read as far as they were
        // captured, as tcpdump does: they are for display, the fixed 20 bytes hold what matters.
        let optionsEnd = min(offset + headerLength, frame.count)
        options = optionsEnd > offset + 20 ? TCPOptions(frame, from: offset + 20, to: optionsEnd) : TCPOptions()
    }
}
