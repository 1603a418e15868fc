import SocketCore
import Foundation
@testable import HTTPServerKit
@testable import LiveView
import Testing
import TestSupport
import Timeline

/// What the projector server keeps between requests, without a network: the ladder built as
/// events arrive (the same bytes as the whole-list writer), the bound on the bytes all event
/// streams hold together, and `/events.jsonl` read from the ring.
@Suite("projector server: the kept ladder and bounded buffers")
struct ServedViewTests {
    static func fixtureLines(_ name: String) throws -> [[UInt8]] {
        let url = packageRoot.appendingPathComponent("Tests/ProjectorViewTests/Fixtures/\(name)")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
    }

    /// Every piece of a planned document, as the response writes them.
    static func drawn(_ document: SVGLadderDocument) -> String {
        let source = SVGLadderSource(document)
        var bytes: [UInt8] = []
        while let piece = source.nextPiece() { bytes += piece }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("the ladder kept as events arrive draws each golden file byte for byte, also when asked for halfway", arguments: [
        "echo-lesson", "refused", "syn-backlog", "linger-reset", "half-close", "echo-ipv6",
    ])
    func keptLadderIsTheGoldenFile(_ name: String) throws {
        let lines = try Self.fixtureLines("\(name).jsonl")
        let hub = EventHub(capacity: 10_000, deliveryThread: false)
        let half = lines.count / 2
        for line in lines[..<half] { hub.append(line) }
        let timeline = EventsFile.parse(lines[..<half].map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")).events
        #expect(Self.drawn(hub.ladderDocument(connection: nil)) == SVGLadderWriter.svg(timeline), "\(name), first half")
        for line in lines[half...] { hub.append(line) }
        let golden = try String(contentsOf: packageRoot.appendingPathComponent("Tests/ProjectorViewTests/Fixtures/\(name).svg"),
                                encoding: .utf8)
        #expect(Self.drawn(hub.ladderDocument(connection: nil)) == golden, "\(name)")
        #expect(Self.drawn(hub.ladderDocument(connection: nil)) == golden, "\(name), the shared plan again")
        let all = EventsFile.parse(lines.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")).events
        for number in Set(all.compactMap { $0.int("conn") }) {
            #expect(Self.drawn(hub.ladderDocument(connection: number)) == SVGLadderWriter.svg(all, connection: number),
                    "\(name), ?conn=\(number)")
        }
    }

    @Test("a state that comes before its connection's first packet goes on that connection's ladder")
    func earlyStateWaitsForItsConnection() {
        let client = SocketAddress(ip: "127.0.0.1", port: 40000)!, server = SocketAddress(ip: "127.0.0.1", port: 5000)!
        let state = LadderEvent.state(.init(time: 1, local: client, remote: server, from: "CLOSE", to: "SYN_SENT", connection: nil))
        let syn = LadderEvent.packet(.init(time: 1.001, source: client, destination: server, flags: ["SYN"], sequence: 7,
                                           acknowledgement: 0, length: 0, connection: 1, step: "handshake-syn"))
        let svg = SVGLadderWriter.svg(ladderEvents: [state, syn])
        #expect(svg.contains(">SYN_SENT</text>"), "\(svg)")
        #expect(svg == SVGLadderWriter.svg(ladderEvents: [syn, state]))
    }

    @Test("all event streams together stay under the total bound: the oldest laggard goes first, a reader never")
    func boundedBufferingDropsTheOldestLaggard() {
        // stallSeconds 0: a stream counts as a laggard at the first look that finds it took
        // nothing while bytes waited (the server waits a second; a test needs no clock).
        let hub = EventHub(capacity: 1_000, deliveryThread: false, stallSeconds: 0)
        let reader = ResponseStream(bufferLimit: EventHub.clientBufferLimit)
        _ = hub.subscribe(reader, after: nil)
        let oldest = ResponseStream(bufferLimit: EventHub.clientBufferLimit)
        _ = hub.subscribe(oldest, after: nil)
        hub.append(Array(#"{"type":"test","time":1.0}"#.utf8))
        hub.deliver()
        // Younger streams that do not read either, enough to pass the total bound together.
        let perStream = EventHub.clientBufferLimit * 3 / 4
        let younger = (0 ..< EventHub.totalBufferLimit / perStream + 2).map { _ in ResponseStream(bufferLimit: EventHub.clientBufferLimit) }
        for stream in younger { _ = hub.subscribe(stream, after: nil) }
        _ = reader.takePending()
        let big = Array(#"{"type":"test","time":2.0,"pad":""#.utf8) + [UInt8](repeating: 0x61, count: 16 * 1024) + Array(#""}"#.utf8)
        var sent = 0
        while sent < perStream {
            hub.append(big)
            hub.deliver()
            _ = reader.takePending()   // the reader keeps up
            sent += big.count
        }
        #expect(oldest.takePending().finished, "the stream behind for the longest was dropped")
        #expect(!reader.takePending().finished, "the reader stays")
        let kept = younger.filter { !$0.takePending().finished }
        #expect(!kept.isEmpty && kept.count < younger.count, "only as many laggards dropped as the bound needs: \(kept.count) of \(younger.count) kept")
        #expect(hub.streamCount == kept.count + 1)
    }

    @Test("/events.jsonl is read from the ring piece by piece; a reader the ring overtakes is cut short, never skipped")
    func eventLinesComeFromTheRing() throws {
        let hub = EventHub(capacity: 4_000, deliveryThread: false)
        let lines = (1...3_000).map { Array(#"{"type":"test","time":1.0,"n":\#($0)}"#.utf8) }
        for line in lines { hub.append(line) }
        let (first, last, bytes) = hub.keptRange()
        #expect(first == 1 && last == 3_000 && bytes == lines.reduce(0) { $0 + $1.count + 1 })
        let source = EventLinesSource(hub: hub, from: first, through: last)
        var body: [UInt8] = []
        var pieces = 0
        while let piece = try source.nextPiece() { body += piece; pieces += 1 }
        #expect(body == lines.flatMap { $0 + [0x0A] } && pieces > 1)

        let slow = EventLinesSource(hub: hub, from: first, through: last)
        _ = try slow.nextPiece()
        for line in lines { hub.append(line) }   // the ring overwrites what the slow reader has not had
        #expect(throws: EventLinesSource.Overwritten.self) { try slow.nextPiece() }
    }
}
