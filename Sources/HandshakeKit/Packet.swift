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
