/// Turns captured bytes into a `Packet`: link layer, then IPv4 or IPv6, then TCP.
public enum PacketDecoder {
    /// Decodes `frame` (the captured bytes, possibly cut at the snapshot length). Returns nil for
    /// packets that are not TCP over IP (ARP, UDP...), throws for TCP/IP packets that are broken.
    @inline(__always)
    public static func decode(_ frame: UnsafeRawBufferPointer, linkLayer: LinkLayer, wireLength: Int,
                              number: Int, time: Timestamp) throws(DecodeError) -> Packet? {
        guard let (offset, version) = try linkLayer.networkLayer(of: frame) else { return nil }
        let source: IPAddress, destination: IPAddress, tcpOffset: Int, ipPayloadLength: Int
        if version == 4 {
            let ip = try IPv4Header(frame, at: offset, wireLength: wireLength)
            guard ip.protocolNumber == 6 else { return nil }
            (source, destination) = (ip.source, ip.destination)
            (tcpOffset, ipPayloadLength) = (offset + ip.headerLength, ip.payloadLength)
        } else {
            let ip = try IPv6Header(frame, at: offset, wireLength: wireLength)
            guard ip.protocolNumber == 6 else { return nil }
            (source, destination) = (ip.source, ip.destination)
            (tcpOffset, ipPayloadLength) = (offset + ip.headerLength, ip.payloadLength)
        }
        let tcp = try TCPSegment(frame, at: tcpOffset, ipPayloadLength: ipPayloadLength)
        return Packet(number: number, time: time,
                      source: Endpoint(address: source, port: tcp.sourcePort),
                      destination: Endpoint(address: destination, port: tcp.destinationPort),
                      tcp: tcp)
    }
}
