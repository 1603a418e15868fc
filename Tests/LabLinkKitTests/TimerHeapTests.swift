import Testing
@testable import LabLinkKit

@Suite struct TimerHeapTests {
    @Test func entriesComeOutByDeadline() {
        var heap = TimerHeap(capacity: 1000)
        var random = SeededRandom(seed: 3)
        var deadlines: [UInt64] = []
        for slot in 0..<1000 {
            let deadline = random.next() % 1_000_000
            deadlines.append(deadline)
            heap.push(slot: Int32(slot), deadline: deadline)
        }
        var out: [UInt64] = []
        while let entry = heap.popDue(at: .max) { out.append(entry.deadline) }
        #expect(out == deadlines.sorted())
    }

    @Test func equalDeadlinesKeepTheirOrderAndNothingComesEarly() {
        var heap = TimerHeap(capacity: 10)
        for slot in 0..<6 { heap.push(slot: Int32(slot), deadline: slot < 3 ? 500 : 100) }
        #expect(heap.popDue(at: 99) == nil)
        #expect(heap.first?.deadline == 100)
        var slots: [Int32] = []
        while let entry = heap.popDue(at: 100) { slots.append(entry.slot) }
        #expect(slots == [3, 4, 5])
        while let entry = heap.popDue(at: 500) { slots.append(entry.slot) }
        #expect(slots == [3, 4, 5, 0, 1, 2])
        #expect(heap.isEmpty)
    }
}
