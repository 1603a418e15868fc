import Testing
@testable import LabLinkKit

@Suite struct ImpairmentTests {
    /// The indices of the packets a 10% loss drops, out of `count`, for a seed.
    private func lostIndices(seed: UInt64, count: Int = 2000) -> [Int] {
        var options = LinkOptions()
        options.loss = 10
        options.seed = seed
        var direction = LinkDirection(.toServer, options: options)
        return (0..<count).filter { direction.admit(bytes: 100, at: UInt64($0) * 1000) == .lost(.loss) }
    }

    @Test func theSameSeedLosesTheSamePackets() {
        let first = lostIndices(seed: 7), second = lostIndices(seed: 7)
        #expect(first == second)
        #expect((140...260).contains(first.count))   // 10% of 2000, give or take
        #expect(lostIndices(seed: 8) != first)
    }

    @Test func multicastHousekeepingDoesNotMoveTheGenerator() {
        var options = LinkOptions()
        options.loss = 10
        options.seed = 7
        var direction = LinkDirection(.toServer, options: options)
        var lost: [Int] = []
        var index = 0
        for step in 0..<2200 {
            if step % 11 == 5 {   // a router solicitation now and then: never lost
                #expect(direction.admit(bytes: 60, at: 0, housekeeping: true) != .lost(.loss))
                continue
            }
            if direction.admit(bytes: 100, at: 0) == .lost(.loss) { lost.append(index) }
            index += 1
        }
        #expect(Array(lost.prefix(while: { $0 < 2000 })) == lostIndices(seed: 7))
    }

    @Test func theBottleneckSerialisesAtItsRate() {
        var link = Bottleneck(bitsPerSecond: 10_000_000, limit: 100)
        #expect(link.serialisation(bytes: 1500) == 1_200_000)   // 1500 × 8 / 10 Mbit/s = 1.2 ms
        // Five packets at once: each leaves 1.2 ms after the one before.
        let departures = (0..<5).map { _ in link.admit(bytes: 1500, at: 0) }
        #expect(departures == [1_200_000, 2_400_000, 3_600_000, 4_800_000, 6_000_000])
        #expect(link.peak == 4)
        // Spaced wider than 1.2 ms, packets never wait.
        var idle = Bottleneck(bitsPerSecond: 10_000_000, limit: 100)
        for n in 0..<5 { #expect(idle.admit(bytes: 1500, at: UInt64(n) * 2_000_000) == UInt64(n) * 2_000_000 + 1_200_000) }
        #expect(idle.peak == 0)
    }

    @Test func aFullQueueDropsTheTail() {
        var link = Bottleneck(bitsPerSecond: 10_000_000, limit: 2)
        // At t = 0: one on the wire, two waiting, the fourth dropped.
        #expect(link.admit(bytes: 1500, at: 0) == 1_200_000)
        #expect(link.admit(bytes: 1500, at: 0) == 2_400_000)
        #expect(link.admit(bytes: 1500, at: 0) == 3_600_000)
        #expect(link.admit(bytes: 1500, at: 0) == nil)
        // At 1.2 ms the second is on the wire: one place is free again.
        #expect(link.admit(bytes: 1500, at: 1_200_000) == 4_800_000)
        #expect(link.admit(bytes: 1500, at: 1_200_000) == nil)
        #expect(link.peak == 2)
    }

    @Test func aSaturatedLinkCarriesExactlyItsRate() {
        // 10,000 packets offered at 20 Mbit/s to a 10 Mbit/s link with a big queue: the last leaves
        // at 10,000 × 1.2 ms, whatever the arrival pattern.
        var link = Bottleneck(bitsPerSecond: 10_000_000, limit: 100_000)
        var last: UInt64 = 0
        for n in 0..<10_000 { last = link.admit(bytes: 1500, at: UInt64(n) * 600_000) ?? 0 }
        #expect(last == 10_000 * 1_200_000)
    }

    @Test func jitterNeverReordersUnlessAsked() {
        var options = LinkOptions()
        options.delay = 20_000_000
        options.jitter = 10_000_000
        var direction = LinkDirection(.toServer, options: options)
        var previous: UInt64 = 0
        for n in 0..<1000 {
            let now = UInt64(n) * 100_000
            guard case .forward(let deadline, _) = direction.admit(bytes: 100, at: now) else {
                Issue.record("lost")
                return
            }
            #expect(deadline >= previous)
            #expect(deadline >= now + 10_000_000 && deadline <= max(previous, now + 30_000_000))
            previous = deadline
        }
        options.reorder = 50
        var reordering = LinkDirection(.toServer, options: options)
        var deadlines: [UInt64] = []
        for n in 0..<100 {
            if case .forward(let deadline, _) = reordering.admit(bytes: 100, at: UInt64(n) * 100_000) { deadlines.append(deadline) }
        }
        #expect(deadlines != deadlines.sorted())
    }

    @Test func theDelayIsAddedAfterTheBottleneck() {
        var options = LinkOptions()
        options.delay = 50_000_000
        options.rate = 10_000_000
        var direction = LinkDirection(.toServer, options: options)
        #expect(direction.admit(bytes: 1500, at: 0) == .forward(deadline: 51_200_000, duplicate: false))
        #expect(direction.admit(bytes: 1500, at: 0) == .forward(deadline: 52_400_000, duplicate: false))
    }

    @Test func duplicatesAreSeededToo() {
        var options = LinkOptions()
        options.duplicate = 25
        options.seed = 3
        func duplicated() -> [Int] {
            var direction = LinkDirection(.toClient, options: options)
            return (0..<400).filter { _ in direction.admit(bytes: 100, at: 0) == .forward(deadline: 0, duplicate: true) }
        }
        let first = duplicated()
        #expect(first == duplicated())
        #expect((60...140).contains(first.count))   // 25% of 400, give or take
    }
}
