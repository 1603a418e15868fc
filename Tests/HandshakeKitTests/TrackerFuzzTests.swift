import Foundation
import Testing
@preconcurrency import Glibc
@testable import HandshakeKit

/// A property test over the rest of the pipeline: random segments on a few 4-tuples, with any
/// flags, numbers, lengths and timestamps (backwards, far apart, fractions past one second), go
/// through the tracker and all three renderers. Whatever arrives, nothing traps, every
/// connection is summarised once, and the table never holds more than its limit.
@Suite("Tracker fuzz")
struct TrackerFuzzTests {
    @Test("random segments through the tracker and every renderer")
    func randomSegments() throws {
        var random = DecoderFuzzTests.Random(state: 0x7EAC_CE12_0000_0003)
        let devNull = try #require(fopen("/dev/null", "w"))
        defer { fclose(devNull) }
        let output = OutputBuffer(file: devNull, flushesEachLine: false)
        let renderers: [any Renderer] = [
            TextRenderer(output: output, palette: Palette(enabled: true), timeFormat: .relative),
            TextRenderer(output: output, palette: Palette(enabled: false), timeFormat: .timeOfDay),
            LadderRenderer(output: output, palette: Palette(enabled: true)),
            JSONRenderer(output: output),
        ]
        let tracker = ConnectionTracker(limit: 5)
        let hosts = ["10.0.0.1", "10.0.0.2", "::1", "2001:db8::7"]
        var started = Set<Int>(), ended = Set<Int>()
        func summarise(_ summary: ConnectionSummary) {
            #expect(ended.insert(summary.connection).inserted, "connection \(summary.connection) summarised twice")
            for renderer in renderers { renderer.connectionEnded(summary) }
        }
        for number in 1...40_000 {
            let v6 = random.below(2) == 0
            let a = hosts[random.below(2) + (v6 ? 2 : 0)], b = hosts[random.below(2) + (v6 ? 2 : 0)]
            let ports: [UInt16] = [1, 80, 5000, 40000, 65535]
            let flags = UInt8(truncatingIfNeeded: random.next())
            // Mostly the numbers a real conversation would use, sometimes anything at all.
            let sequence = random.below(3) == 0 ? UInt32(truncatingIfNeeded: random.next()) : UInt32(100 + random.below(4))
            let acknowledgement = random.below(3) == 0 ? UInt32(truncatingIfNeeded: random.next()) : UInt32(900 + random.below(4))
            let segment = FixtureSegment(source: a, destination: b, sourcePort: ports[random.below(5)],
                                         destinationPort: ports[random.below(5)], flags: flags, sequence: sequence,
                                         acknowledgement: acknowledgement, payload: [UInt8](repeating: 0, count: random.below(3)))
            let seconds = [0, 1_700_000_000, 4_294_967_295, 1_700_000_000 - random.below(1_000)][random.below(4)]
            let time = Timestamp(seconds: seconds, fraction: random.below(3_000_000_000), isNanosecond: random.below(2) == 0)
            let bytes = segment.frame(.raw)
            let packet = try bytes.withUnsafeBytes { raw in
                try #require(try PacketDecoder.decode(raw, linkLayer: .rawIP, wireLength: bytes.count, number: number, time: time))
            }
            let tracked = tracker.track(packet)
            started.insert(tracked.connection)
            for renderer in renderers { renderer.packet(tracked) }
            tracker.drainEnded(summarise)
            #expect(tracker.openCount <= 5)
        }
        tracker.finishAll(summarise)
        for renderer in renderers {
            renderer.finish(CaptureStats(received: 40_000, dropped: 0, skipped: 0, decoded: 40_000, isLive: false,
                                             endTime: Timestamp(seconds: 0, fraction: 0, isNanosecond: false)))
        }
        #expect(started == ended, "every connection that began is summarised")
        #expect(tracker.openCount == 0)
    }
}
