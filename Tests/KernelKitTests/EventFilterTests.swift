import SocketCore
import Testing
@testable import KernelKit

/// What a capture filter means for a kernel event: it passes when a packet of its connection,
/// in either direction, with any of the flags a connection sends, would pass (no root needed:
/// the filter runs over synthetic headers with pcap_offline_filter).
@Suite struct EventFilterTests {
    /// The client's end (port 40000) and the server's (5000) of one loopback connection.
    static let client = KernelEvent(time: EpochTime(microseconds: 1), kind: .state(from: .close, to: .synSent, source: .tracepoint),
                                    local: "127.0.0.1", localPort: 40000, remote: "127.0.0.1", remotePort: 5000)
    static let server = KernelEvent(time: EpochTime(microseconds: 2), kind: .state(from: .listen, to: .synRecv, source: .tracepoint),
                                    local: "127.0.0.1", localPort: 5000, remote: "127.0.0.1", remotePort: 40000)

    func passes(_ expression: String, _ event: KernelEvent) throws -> Bool {
        try #require(EventFilter(expression: expression)).matches(event)
    }

    @Test func srcAndDstPortShowBothEnds() throws {
        for expression in ["src port 5000", "dst port 5000", "port 5000", "src port 40000", "dst port 40000"] {
            #expect(try passes(expression, Self.client), "\(expression)")
            #expect(try passes(expression, Self.server), "\(expression)")
        }
        #expect(try !passes("port 5001", Self.client))
        #expect(try !passes("src port 5000 and dst port 5001", Self.server))
    }

    @Test func hostMatchesEitherAddress() throws {
        let remote = KernelEvent(time: EpochTime(microseconds: 3), kind: .resetReceived,
                                 local: "10.0.0.1", localPort: 40000, remote: "10.0.0.2", remotePort: 80)
        #expect(try passes("host 10.0.0.2", remote))
        #expect(try passes("src host 10.0.0.2", remote))
        #expect(try passes("dst host 10.0.0.1", remote))
        #expect(try !passes("host 10.0.0.3", remote))
        #expect(try !passes("host ::1", Self.client))
        let six = KernelEvent(time: EpochTime(microseconds: 4), kind: .retransmit, local: "::1", localPort: 5000,
                              remote: "::1", remotePort: 40000)
        #expect(try passes("host ::1 and port 5000", six))
        #expect(try !passes("host 127.0.0.1", six))
    }

    @Test func flagFiltersSeeTheConnectionsPackets() throws {
        // Every connection opened with a SYN, and ends with a FIN or a RST: each of its events passes.
        #expect(try passes("tcp[13] & 2 != 0", Self.client))
        #expect(try passes("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn|tcp-ack", Self.server))
        #expect(try passes("tcp[13] & 1 != 0", Self.server))
        #expect(try passes("tcp[13] & 4 != 0", Self.client))
        // No TCP packet carries SYN and RST together: nothing passes.
        #expect(try !passes("tcp[13] & 6 == 6", Self.client))
        #expect(try !passes("tcp[13] & 2 != 0 and port 5001", Self.client))
    }

    @Test func countersAlwaysPass() throws {
        let counter = KernelEvent(time: EpochTime(microseconds: 5), kind: .counter(name: "ListenOverflows", delta: 1, total: 1))
        #expect(try passes("port 1", counter))
    }

    @Test func aBadExpressionDoesNotCompile() {
        #expect(EventFilter(expression: "port banana") == nil)
    }
}

/// The ordered buffer the kernel's events wait in: appended in time order, put in place when
/// earlier, taken from the front.
@Suite struct KernelEventQueueTests {
    static func event(_ micros: Int64, port: Int = 1) -> KernelEvent {
        KernelEvent(time: EpochTime(microseconds: micros), kind: .resetReceived, local: "127.0.0.1", localPort: port,
                    remote: "127.0.0.1", remotePort: 2)
    }

    @Test func keepsTimeOrderAndArrivalOrderForEqualTimes() {
        var queue = KernelEventQueue()
        queue.insert([Self.event(10), Self.event(30), Self.event(20), Self.event(20, port: 7), Self.event(5)])
        #expect(queue.waiting.map(\.time.microseconds) == [5, 10, 20, 20, 30])
        #expect(queue.waiting.map(\.localPort) == [1, 1, 1, 7, 1])
        #expect(queue.take(upTo: EpochTime(microseconds: 20)).map(\.time.microseconds) == [5, 10, 20, 20])
        queue.insert([Self.event(25)])
        #expect(queue.take(upTo: nil).map(\.time.microseconds) == [25, 30])
        #expect(queue.isEmpty)
    }

    @Test func takesMatchingEventsAndKeepsTheRest() {
        var queue = KernelEventQueue()
        queue.insert((1...10).map { Self.event(Int64($0), port: $0 % 2 == 0 ? 2 : 3) })
        let even = queue.take(upTo: EpochTime(microseconds: 6)) { $0.localPort == 2 }
        #expect(even.map(\.time.microseconds) == [2, 4, 6])
        #expect(queue.waiting.map(\.time.microseconds) == [1, 3, 5, 7, 8, 9, 10])
    }

    @Test func aLongRunStaysInOrder() {
        var queue = KernelEventQueue()
        var taken: [Int64] = []
        for round in 0..<100 {
            let base = Int64(round * 100)
            queue.insert((0..<100).map { Self.event(base + Int64(($0 * 37) % 100)) })   // shuffled within the round
            taken += queue.take(upTo: EpochTime(microseconds: base + 49)).map(\.time.microseconds)
        }
        taken += queue.take(upTo: nil).map(\.time.microseconds)
        #expect(taken == taken.sorted() && taken.count == 10_000)
    }
}
