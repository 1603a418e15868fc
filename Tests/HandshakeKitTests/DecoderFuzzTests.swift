import Foundation
import Testing
import TestSupport
@testable import HandshakeKit

/// A property test over random and mutated packets: whatever the bytes, decoding either yields a
/// packet whose lengths fit the capture, or a DecodeError; it never traps (Swift checks every
/// array access in these debug builds, so an out-of-bounds read would crash the test run).
@Suite("Decoder fuzz")
struct DecoderFuzzTests {
    /// Seed frames from Tests/HandshakeKitTests/Corpus, the link layer named by the file name.
    static func corpus() throws -> [(LinkLayer, [UInt8])] {
        let directory = packageRoot.appendingPathComponent("Tests/HandshakeKitTests/Corpus")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }.sorted()
        return try names.map { name in
            let link: LinkLayer = name.hasPrefix("raw") ? .rawIP : name.hasPrefix("sll2") ? .linuxSLL2
                : name.hasPrefix("null") ? .null : .ethernet
            return (link, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    /// xorshift64*: reproducible randomness (the seed is in the failure message).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static func check(_ bytes: [UInt8], _ link: LinkLayer, _ tracker: ConnectionTracker, _ number: Int) {
        bytes.withUnsafeBytes { raw in
            do {
                let time = Timestamp(seconds: 1_700_000_000, fraction: number % 1_000_000, isNanosecond: false)
                guard let packet = try PacketDecoder.decode(raw, linkLayer: link, wireLength: bytes.count + number % 3,
                                                            number: number, time: time) else { return }
                #expect(packet.tcp.headerLength >= 20 && packet.tcp.headerLength <= 60)
                #expect(packet.tcp.payloadLength >= 0)
                _ = tracker.track(packet)
                tracker.drainEnded { _ in }
            } catch let error as DecodeError {
                #expect(!error.description.isEmpty)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test("mutated corpus frames: bit flips, truncation, extreme length fields")
    func mutations() throws {
        let seeds = try Self.corpus()
        try #require(seeds.count >= 10)
        var random = Random(state: 0x5EED_1234_ABCD_0001)
        let tracker = ConnectionTracker(limit: 256)
        var number = 0
        for (link, seed) in seeds {
            for _ in 0..<4_000 {
                var bytes = seed
                switch random.below(4) {
                case 0:   // flip a few bits
                    for _ in 0...random.below(4) where !bytes.isEmpty { bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) }
                case 1:   // cut anywhere
                    bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
                case 2:   // a length or offset byte set to an extreme
                    if !bytes.isEmpty { bytes[random.below(min(bytes.count, 80))] = [0x00, 0xFF, 0x0F, 0xF0, 0x45, 0x60][random.below(6)] }
                default:  // grow with junk
                    bytes += (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
                number += 1
                Self.check(bytes, link, tracker, number)
            }
        }
    }

    @Test("TCP options packed without NOP padding, and a bad option length that ends the walk")
    func oddOptions() throws {
        // MSS 1460, window scale 7 (3 bytes, no NOP before the next), SACK permitted,
        // timestamps 1/0, end of list: 19 bytes padded to 20.
        let packed: [UInt8] = [2, 4, 0x05, 0xB4, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0]
        var syn = segment(client, server, SYN, seq: 1)
        syn.tcpOptions = packed
        let options = try packets([syn])[0].tcp.options
        #expect(options.mss == 1460 && options.windowScale == 7 && options.sackPermitted)
        #expect(options.timestamp?.value == 1 && options.timestamp?.echo == 0)
        #expect(options.summary == "mss 1460,sackOK,TS val 1 ecr 0,wscale 7")
        // An MSS option claiming length 1 cannot be walked past: the walk ends, the segment stays.
        syn.tcpOptions = [2, 1, 0x05, 0xB4, 3, 3, 7, 0]
        let broken = try packets([syn])[0]
        #expect(broken.tcp.options == TCPOptions() && broken.tcp.flags == .syn)
    }

    @Test("random bytes on every link layer")
    func randomBytes() {
        var random = Random(state: 0xFACE_FEED_0000_0042)
        let tracker = ConnectionTracker(limit: 256)
        let links: [LinkLayer] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .rawIP]
        for number in 0..<30_000 {
            var bytes = (0..<random.below(120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Often make it look like IP so the decoder gets past the first checks.
            if number % 2 == 0, !bytes.isEmpty { bytes[0] = random.below(2) == 0 ? 0x45 : 0x60 }
            Self.check(bytes, links[number % links.count], tracker, number)
        }
    }
}
