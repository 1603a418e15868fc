import SocketCore

/// The kernel's events waiting for their packets, kept in time order as they arrive.
///
/// trace_pipe hands events over already merged in time order across CPUs, and a sock_diag
/// sample is stamped when it ends, so nearly every event is later than the last one held: it
/// goes at the end. The rare earlier one is put in its place by a binary search. Taking from
/// the front moves a start index instead of shifting the array, so a burst of thousands of
/// events costs each event one append and one take, not a sort of everything still waiting.
struct KernelEventQueue {
    private var storage: [KernelEvent] = []
    /// The first event not taken yet.
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    /// The events not taken yet, in time order.
    var waiting: ArraySlice<KernelEvent> { storage[head...] }

    /// Adds events in their place; equal times keep their arrival order.
    mutating func insert(_ events: [KernelEvent]) {
        for event in events {
            guard let last = storage.last, event.time < last.time, head < storage.count else {
                storage.append(event)
                continue
            }
            var low = head, high = storage.count   // the first index whose time is later than the event's
            while low < high {
                let middle = (low + high) / 2
                if storage[middle].time <= event.time { low = middle + 1 } else { high = middle }
            }
            storage.insert(event, at: low)
        }
    }

    /// The waiting events stamped from `start` to `end`, left in place (a binary search to the
    /// first, then the run up to the last): what a packet's analysis looks at.
    func peek(from start: EpochTime, to end: EpochTime) -> ArraySlice<KernelEvent> {
        var low = head, high = storage.count
        while low < high {
            let middle = (low + high) / 2
            if storage[middle].time < start { low = middle + 1 } else { high = middle }
        }
        var last = low
        while last < storage.count, storage[last].time <= end { last += 1 }
        return storage[low..<last]
    }

    /// Takes the events stamped up to `time` (all when nil), in time order.
    mutating func take(upTo time: EpochTime?) -> [KernelEvent] {
        var end = head
        while end < storage.count, time.map({ storage[end].time <= $0 }) ?? true { end += 1 }
        let taken = Array(storage[head..<end])
        head = end
        compact()
        return taken
    }

    /// Takes the events stamped up to `time` that `matching` accepts; the others stay, in order.
    /// Costs the events up to `time`, not the whole queue.
    mutating func take(upTo time: EpochTime, matching: (KernelEvent) -> Bool) -> [KernelEvent] {
        var end = head
        while end < storage.count, storage[end].time <= time { end += 1 }
        var taken: [KernelEvent] = [], kept: [KernelEvent] = []
        for event in storage[head..<end] {
            if matching(event) { taken.append(event) } else { kept.append(event) }
        }
        guard !taken.isEmpty else { return [] }
        storage.replaceSubrange(head..<end, with: kept)
        compact()
        return taken
    }

    /// Drops the taken events' storage once they are most of it.
    private mutating func compact() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count < 65_536)
            head = 0
        } else if head > 4_096 && head > storage.count / 2 {
            storage.removeFirst(head)
            head = 0
        }
    }
}
