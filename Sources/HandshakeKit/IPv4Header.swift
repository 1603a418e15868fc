/// The fields of an IPv4 header (RFC 791) that matter for following TCP.
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    |Version|  IHL  |Type of Service|          Total Length         |
///    |         Identification        |Flags|      Fragment Offset    |
///    |  Time to Live |    Protocol   |         Header Checksum       |
///    |                       Source Address                          |
///    |                    Destination Address                        |
///    |                    Options (IHL > 5)                          |
public struct IPv4Header: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// 6 is TCP.
    public var protocolNumber: UInt8
    /// IHL × 4: 20 without options, up to 60.
    public var headerLength: Int
    /// The bytes the IP header says follow it. The frame may be longer (Ethernet pads short frames
    /// to 60 bytes), so the TCP payload length must come from here, not from the frame.
    public var payloadLength: Int

    /// Decodes the header at `offset`. `wireLength` is the frame's length on the wire.
    @inline(__always)
    public init(_ frame: UnsafeRawBufferPointer, at offset: Int, wireLength: Int) throws(DecodeError) {
        guard frame.count >= offset + 20 else { throw .truncatedIPv4Header }
        let versionAndIHL = frame.u8(offset)
        guard versionAndIHL >> 4 == 4 else { throw .badIPVersion(Int(versionAndIHL >> 4)) }
        headerLength = Int(versionAndIHL & 0x0F) * 4
        guard headerLength >= 20 else { throw .badIPv4HeaderLength(headerLength) }
        guard frame.count >= offset + headerLength else { throw .truncatedIPv4Header }
        var totalLength = Int(frame.u16(offset + 2))
        if totalLength == 0 {
            // Segmentation offload: the kernel handed the capture a "super-packet" whose length it
            // never filled in (tcpdump prints bad-len 0). Like Wireshark, trust the frame length.
            totalLength = wireLength - offset
        }
        // A length past the end of the frame on the wire cannot be true: like Wireshark, believe
        // the frame ("IPv4 total length exceeds packet length").
        totalLength = min(totalLength, wireLength - offset)
        guard totalLength >= headerLength else { throw .badIPv4TotalLength(totalLength) }
        protocolNumber = frame.u8(offset + 9)
        // Flags and fragment offset: a non-zero offset, or More Fragments, means this is a piece of
        // a bigger packet. A piece of TCP would need reassembly; a piece of UDP is simply not ours.
        guard frame.u16(offset + 6) & 0x3FFF == 0 || protocolNumber != 6 else { throw .ipv4Fragment }
        source = IPAddress(ipv4: frame.u32(offset + 12))
        destination = IPAddress(ipv4: frame.u32(offset + 16))
        payloadLength = totalLength - headerLength
    }
}
