/// When a packet was captured: seconds since the epoch plus a fraction in micro- or nanoseconds,
/// exactly as the capture file stores it (no floating-point rounding).
public struct Timestamp: Sendable, Comparable {
    public var seconds: Int
    /// Microseconds (0..<1_000_000) or nanoseconds (0..<1_000_000_000).
    public var fraction: Int
    public var isNanosecond: Bool

    /// A fraction of a second or more (a file can hold any number there) carries into `seconds`,
    /// as libpcap's own tools do, so printing it never shows more digits than the precision.
    public init(seconds: Int, fraction: Int, isNanosecond: Bool) {
        let unit = isNanosecond ? 1_000_000_000 : 1_000_000
        self.seconds = seconds &+ fraction / unit
        self.fraction = fraction % unit
        self.isNanosecond = isNanosecond
        if self.fraction < 0 {
            self.fraction += unit
            self.seconds &-= 1
        }
    }

    /// Seconds as a Double, for durations and round-trip times.
    public var value: Double {
        Double(seconds) + Double(fraction) / (isNanosecond ? 1e9 : 1e6)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.value < b.value }
}

/// One decoded TCP packet: where it came from, where it goes, and its TCP header.
public struct Packet: Sendable {
    /// 1 for the first packet read (Wireshark's frame number for an unfiltered file).
    public var number: Int
    public var time: Timestamp
    public var source: Endpoint
    public var destination: Endpoint
    public var tcp: TCPSegment

    public init(number: Int, time: Timestamp, source: Endpoint, destination: Endpoint, tcp: TCPSegment) {
        self.number = number
        self.time = time
        self.source = source
        self.destination = destination
        self.tcp = tcp
    }
}

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
