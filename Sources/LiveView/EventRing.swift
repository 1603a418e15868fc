/// The last `capacity` events, each with its id (1, 2, 3... in the order they came), as the
/// JSON lines the browser receives. The oldest is overwritten when the ring is full, so memory
/// stays bounded however long a class runs.
struct EventRing {
    let capacity: Int
    private var storage: [[UInt8]] = []
    /// Where the oldest kept event sits in `storage`, once the ring has wrapped.
    private var head = 0
    /// The id of the newest event; 0 before the first.
    private(set) var lastId = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a ring keeps at least one event")
        self.capacity = capacity
    }

    /// The id of the oldest event kept (lastId + 1 while empty).
    var firstId: Int { lastId - storage.count + 1 }

    var count: Int { storage.count }

    /// Keeps one event; returns its id.
    mutating func append(_ line: [UInt8]) -> Int {
        if storage.count < capacity {
            storage.append(line)
        } else {
            storage[head] = line
            head = (head + 1) % capacity
        }
        lastId += 1
        return lastId
    }

    /// The events after `id`, oldest first; nil when the ring no longer holds all of them (or
    /// the id is one this ring never gave: a browser that saw an earlier run of the server).
    func events(after id: Int) -> [(id: Int, line: [UInt8])]? {
        guard id >= firstId - 1, id <= lastId else { return nil }
        return (id + 1 ..< lastId + 1).map { ($0, self[$0]) }
    }

    /// Every event kept, oldest first.
    var all: [[UInt8]] {
        Array(storage[head...] + storage[..<head])
    }

    /// The event with this id (which must be kept).
    subscript(id: Int) -> [UInt8] {
        storage[(head + id - firstId) % storage.count]
    }
}
