import FuzzSupport
import HandshakeKit

/// `tracker`: the connection tracker, fed with packets built from the input.
/// Its table never holds more than its limit, every connection it opens ends exactly once (when
/// it closes, is evicted, or at the end of the capture), and its counters add up.
///
/// Input: one byte for the table limit (1...8, so eviction happens), then 9-byte records, each
/// one TCP segment among 8 flows (3 clients x 2 servers, IPv4 and IPv6) in either direction.
let clients = [Endpoint(address: IPAddress(ipv4: 0x7F00_0001), port: 40_000),
               Endpoint(address: IPAddress(ipv4: 0x7F00_0001), port: 40_001),
               Endpoint(address: IPAddress(ipv6High: 0, low: 1), port: 40_000),
               Endpoint(address: IPAddress(ipv4: 0x0A00_0002), port: 5_555)]
let servers = [Endpoint(address: IPAddress(ipv4: 0x7F00_0001), port: 8_000),
               Endpoint(address: IPAddress(ipv6High: 0, low: 1), port: 8_000)]

/// One flow's sequence numbers so far, so deltas give in-window, retransmitted and stray segments.
struct FlowState { var sequence: [UInt32] = [1_000, 900_000] }

func check(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let tracker = ConnectionTracker(limit: 1 + Int(reader.byte() % 8))
    var flows = [FlowState](repeating: FlowState(), count: clients.count * servers.count)
    var seenIDs = Set<Int>(), endedIDs = Set<Int>()
    var tracked = 0, payloadBytes: UInt64 = 0
    var micros = 0

    func drain(_ summary: ConnectionSummary) {
        invariant(endedIDs.insert(summary.connection).inserted, "connection \(summary.connection) ended twice")
        invariant(seenIDs.contains(summary.connection), "connection \(summary.connection) ended but never seen")
        invariant(summary.duration >= 0 && summary.packets >= 1, "summary with duration \(summary.duration), \(summary.packets) packets")
    }

    while !reader.isAtEnd && tracked < 4_096 {
        let selector = Int(reader.byte())
        let flow = selector & 7, toServer = selector & 8 == 0
        micros += (selector >> 4) * 997
        let flags = TCPFlags(rawValue: reader.byte())
        let delta = UInt32(reader.u16()), ackDelta = UInt32(reader.u16())
        let payload = Int(reader.u16() & 0x0FFF)
        let optionBits = reader.byte()
        let side = toServer ? 0 : 1
        let sequence = flows[flow].sequence[side] &+ delta &- 0x4000
        let acknowledgement = flows[flow].sequence[1 - side] &+ ackDelta &- 0x4000
        flows[flow].sequence[side] = sequence &+ UInt32(payload)
        var options = TCPOptions()
        if optionBits & 1 != 0 { options.mss = 1460 }
        if optionBits & 2 != 0 { options.windowScale = optionBits >> 5 }
        if optionBits & 4 != 0 { options.sackPermitted = true }
        let segment = makeSegment(flows: flow, toServer: toServer, flags: flags, sequence: sequence,
                                  acknowledgement: acknowledgement, payload: payload, options: options)
        let client = clients[flow % clients.count], server = servers[flow / clients.count]
        let packet = Packet(number: tracked + 1, time: Timestamp(seconds: 1_700_000_000 + micros / 1_000_000,
                                                                fraction: micros % 1_000_000, isNanosecond: false),
                            source: toServer ? client : server, destination: toServer ? server : client, tcp: segment)
        let result = tracker.track(packet)
        tracked += 1
        payloadBytes += UInt64(payload)
        invariant(result.connection >= 1, "connection number \(result.connection)")
        seenIDs.insert(result.connection)
        invariant(tracker.openCount <= tracker.limit, "\(tracker.openCount) open connections past the limit \(tracker.limit)")
        if selector & 0x80 != 0 { tracker.drainEnded(drain) }
    }
    tracker.finishAll(drain)
    invariant(tracker.openCount == 0, "connections left after finishAll")
    invariant(endedIDs == seenIDs, "\(seenIDs.subtracting(endedIDs).count) connections never ended")
    _ = payloadBytes
}

func makeSegment(flows flow: Int, toServer: Bool, flags: TCPFlags, sequence: UInt32, acknowledgement: UInt32,
                 payload: Int, options: TCPOptions) -> TCPSegment {
    // A header built as bytes and decoded, so the segment is one the decoder could produce.
    var header = [UInt8](repeating: 0, count: 20)
    let ports: (UInt16, UInt16) = toServer ? (clients[flow % clients.count].port, servers[flow / clients.count].port)
                                           : (servers[flow / clients.count].port, clients[flow % clients.count].port)
    header[0] = UInt8(ports.0 >> 8); header[1] = UInt8(ports.0 & 0xFF)
    header[2] = UInt8(ports.1 >> 8); header[3] = UInt8(ports.1 & 0xFF)
    for i in 0..<4 {
        header[4 + i] = UInt8(truncatingIfNeeded: sequence >> (24 - 8 * UInt32(i)))
        header[8 + i] = UInt8(truncatingIfNeeded: acknowledgement >> (24 - 8 * UInt32(i)))
    }
    header[12] = 5 << 4
    header[13] = flags.rawValue
    header[14] = 0xFF; header[15] = 0xFF
    var segment = header.withUnsafeBytes { raw in
        try! TCPSegment(raw, at: 0, ipPayloadLength: 20 + payload)   // 20 bytes, well formed: cannot throw
    }
    segment.options = options
    return segment
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("TrackerFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
