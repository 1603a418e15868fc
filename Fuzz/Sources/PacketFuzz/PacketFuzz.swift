import FuzzSupport
import HandshakeKit

/// `packet`: the decoder chain, link layer to TCP options, for every link type.
/// It never reads past the captured bytes (AddressSanitizer sees the input's exact end), and what
/// it decodes is consistent: header lengths in range, the IP length split into TCP header and
/// payload, nothing longer than the frame was on the wire.
///
/// Input: one byte choosing the link type and how much longer the frame was on the wire than
/// captured (a snapshot length cut), then the frame.
let links: [LinkLayer] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .rawIP]
let cuts = [0, 0, 1, 14, 1_000, 65_535]

func check(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let selector = Int(reader.byte())
    let link = links[selector % links.count]
    let frame = UnsafeRawBufferPointer(reader.rest())
    let wireLength = frame.count + cuts[(selector / links.count) % cuts.count]
    let time = Timestamp(seconds: 1_700_000_000, fraction: 0, isNanosecond: false)

    let packet: Packet?
    do {
        packet = try PacketDecoder.decode(frame, linkLayer: link, wireLength: wireLength, number: 1, time: time)
    } catch {
        invariant(!error.description.isEmpty, "a decode error without a description")
        return
    }
    guard let packet else { return }
    let tcp = packet.tcp
    invariant((20...60).contains(tcp.headerLength) && tcp.headerLength % 4 == 0, "TCP header length \(tcp.headerLength)")
    invariant(tcp.payloadLength >= 0, "negative payload \(tcp.payloadLength)")
    invariant(tcp.options.sackBlocks <= 4, "\(tcp.options.sackBlocks) SACK blocks in 40 bytes of options")
    invariant(packet.source.address.isIPv6 == packet.destination.address.isIPv6, "mixed address families")

    // Decode the layers one by one: the TCP payload is what the IP header says follows it,
    // minus the TCP header, and all of it fits in the frame as it was on the wire.
    do {
        guard let (offset, version) = try link.networkLayer(of: frame) else {
            invariant(false, "a packet decoded from a frame that is not IP")
            return
        }
        let ipHeader: Int, ipPayload: Int
        if version == 4 {
            let ip = try IPv4Header(frame, at: offset, wireLength: wireLength)
            (ipHeader, ipPayload) = (ip.headerLength, ip.payloadLength)
            invariant((20...60).contains(ip.headerLength), "IPv4 header length \(ip.headerLength)")
        } else {
            let ip = try IPv6Header(frame, at: offset, wireLength: wireLength)
            (ipHeader, ipPayload) = (ip.headerLength, ip.payloadLength)
            invariant(ip.headerLength >= 40, "IPv6 header length \(ip.headerLength)")
        }
        invariant(tcp.payloadLength == ipPayload - tcp.headerLength, "payload != IP payload - TCP header")
        invariant(offset + ipHeader + tcp.headerLength + tcp.payloadLength <= wireLength,
                  "decoded lengths run past the frame's wire length")
        invariant(offset + ipHeader + 20 <= frame.count, "the fixed TCP header was not in the captured bytes")
    } catch {
        invariant(false, "layer by layer decoding failed where the chain succeeded: \(error)")
    }
    _ = tcp.options.summary
    _ = tcp.flags.description
    _ = packet.source.description + packet.destination.description
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("PacketFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
