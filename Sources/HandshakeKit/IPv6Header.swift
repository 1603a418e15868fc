/// The fields of an IPv6 header (RFC 8200) that matter for following TCP, after walking the
/// extension headers that may sit between the fixed 40-byte header and TCP.
///
///    |Version| Traffic Class |           Flow Label                  |
///    |         Payload Length        |  Next Header  |   Hop Limit   |
///    |                  Source Address (128 bits)                    |
///    |               Destination Address (128 bits)                  |
public struct IPv6Header: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// The upper-layer protocol after the extension headers (6 is TCP, 59 "no next header").
    public var protocolNumber: UInt8
    /// 40 plus every extension header walked.
    public var headerLength: Int
    /// Bytes after all the headers, from the Payload Length field.
    public var payloadLength: Int

    @inline(__always)
    public init(_ frame: UnsafeRawBufferPointer, at offset: Int, wireLength: Int) throws(DecodeError) {
        guard frame.count >= offset + 40 else { throw .truncatedIPv6Header }
        let version = Int(frame.u8(offset) >> 4)
        guard version == 6 else { throw .badIPVersion(version) }
        var remaining = Int(frame.u16(offset + 4))
        if remaining == 0 {
            // A jumbogram (RFC 2675) or an offloaded super-packet: use the frame's own length.
            remaining = wireLength - offset - 40
        }
        // Longer than the frame on the wire: believe the frame, as Wireshark does.
        remaining = min(remaining, wireLength - offset - 40)
        source = IPAddress(ipv6High: frame.u64(offset + 8), low: frame.u64(offset + 16))
        destination = IPAddress(ipv6High: frame.u64(offset + 24), low: frame.u64(offset + 32))
        var next = frame.u8(offset + 6)
        var cursor = offset + 40
        // Walk the chain: each extension header names the next one in its first byte.
        walk: while true {
            let length: Int
            switch next {
            case 0, 43, 60, 135, 139, 140:   // hop-by-hop, routing, destination options, mobility, HIP, shim6
                guard frame.count >= cursor + 2 else { throw .truncatedIPv6ExtensionHeader }
                length = (Int(frame.u8(cursor + 1)) + 1) * 8
            case 51:   // authentication header: its length is in 4-byte units, minus 2
                guard frame.count >= cursor + 2 else { throw .truncatedIPv6ExtensionHeader }
                length = (Int(frame.u8(cursor + 1)) + 2) * 4
            case 44:   // fragment header, 8 bytes
                guard frame.count >= cursor + 8 else { throw .truncatedIPv6ExtensionHeader }
                // Only an atomic fragment (offset 0, no More Fragments) carries a whole segment.
                // A piece of TCP would need reassembly; a piece of anything else is not ours.
                if frame.u16(cursor + 2) & 0xFFF9 != 0 {
                    if frame.u8(cursor) == 6 { throw .ipv6Fragment }
                    break walk   // the protocol stays 44, not TCP: ignored
                }
                length = 8
            default:
                break walk
            }
            guard frame.count >= cursor + length, remaining >= length else { throw .truncatedIPv6ExtensionHeader }
            next = frame.u8(cursor)
            cursor += length
            remaining -= length
        }
        protocolNumber = next
        headerLength = cursor - offset
        payloadLength = remaining
    }
}
