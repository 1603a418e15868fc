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
    /// The bytes of the events kept as JSON Lines (each line and its newline): the length of
    /// `/events.jsonl`, known before it is written.
    private(set) var byteCount = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a ring keeps at least one event")
        self.capacity = capacity
    }

    /// The id of the oldest event kept (lastId + 1 while empty).
    var firstId: Int { lastId - storage.count + 1 }

    var count: Int { storage.count }

    /// Keeps one event; returns its id.
    mutating func append(_ line: [UInt8]) -> Int {
        byteCount += line.count + 1
        if storage.count < capacity {
            storage.append(line)
        } else {
            byteCount -= storage[head].count + 1
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

    /// The events from `id` on, as JSON Lines, until `maxBytes` is reached (one event at least)
    /// or `last` is included; and the id after the last one copied. Nil when `id` is no longer kept.
    func lines(from id: Int, through last: Int, maxBytes: Int) -> (bytes: [UInt8], next: Int)? {
        guard id >= firstId, id <= lastId + 1 else { return nil }
        var bytes: [UInt8] = [], next = id
        while next <= min(last, lastId) && (bytes.isEmpty || bytes.count < maxBytes) {
            bytes += self[next]
            bytes.append(0x0A)
            next += 1
        }
        return (bytes, next)
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
