/// The packets the link holds back, ordered by when each is due: a binary min-heap.
///
/// A delayed packet is an entry (deadline, order, slot): the loop sleeps until the earliest
/// deadline, then writes every packet that is due. No sleep per packet and no thread per packet:
/// one ppoll(2) waits for the next deadline and for new packets at once. `order` increases with
/// every push, so two packets due at the same nanosecond leave in the order they came.
///
/// The storage is allocated once (`capacity`, the link's packet slots), so pushing and popping
/// allocate nothing.
public struct TimerHeap: Sendable {
    public struct Entry: Sendable, Equatable {
        public var deadline: UInt64
        public var order: UInt64
        public var slot: Int32
    }

    private var entries: [Entry]
    private var nextOrder: UInt64 = 0

    public init(capacity: Int) {
        entries = []
        entries.reserveCapacity(capacity)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The earliest entry, without removing it.
    public var first: Entry? { entries.first }

    /// Adds `slot`, due at `deadline`.
    public mutating func push(slot: Int32, deadline: UInt64) {
        entries.append(Entry(deadline: deadline, order: nextOrder, slot: slot))
        nextOrder &+= 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(at now: UInt64) -> Entry? {
        guard let top = entries.first, top.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < entries.count && Self.before(entries[left], entries[smallest]) { smallest = left }
                if right < entries.count && Self.before(entries[right], entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }

    @inline(__always)
    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.order < b.order
    }
}
