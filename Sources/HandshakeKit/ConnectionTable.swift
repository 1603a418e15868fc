/// The tracker's table: connections in fixed-size chunks, found by their 4-tuple through an
/// open-addressing index of 4-byte slot numbers.
///
/// A plain `[FlowKey: TrackedConnection]` would work; this layout keeps 100,000 open connections at
/// about 200 bytes each plus 8 bytes of index, and never copies the whole table when it grows
/// (an array doubling from 65,536 to 131,072 entries briefly holds both).
struct ConnectionTable {
    private static let chunkShift = 12                      // 4,096 connections per chunk
    private static let chunkMask = (1 << chunkShift) - 1
    private var chunks: [[TrackedConnection]] = []
    private var slotCount = 0
    private var freeSlots: [Int32] = []

    /// Open addressing with linear probing: each bucket holds a slot number, or -1 when empty.
    private var buckets: [Int32] = Array(repeating: -1, count: 1_024)
    /// Connections in the table.
    private(set) var count = 0

    subscript(slot: Int32) -> TrackedConnection {
        get { chunks[Int(slot) >> Self.chunkShift][Int(slot) & Self.chunkMask] }
        set { chunks[Int(slot) >> Self.chunkShift][Int(slot) & Self.chunkMask] = newValue }
        // In place: `table[slot].advance(...)` must not copy the connection out and back per packet.
        _modify { yield &chunks[Int(slot) >> Self.chunkShift][Int(slot) & Self.chunkMask] }
    }

    /// The slot of the connection with this 4-tuple.
    func find(_ key: FlowKey) -> Int32? {
        let mask = buckets.count - 1
        var bucket = key.hashValueForTable & mask
        while true {
            let slot = buckets[bucket]
            if slot < 0 { return nil }
            if self[slot].key == key { return slot }
            bucket = (bucket + 1) & mask
        }
    }

    /// Stores a new connection (its 4-tuple must not be in the table) and returns its slot.
    mutating func insert(_ connection: TrackedConnection) -> Int32 {
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            self[slot] = connection
        } else {
            slot = Int32(slotCount)
            if slotCount & Self.chunkMask == 0 {
                chunks.append([])
                chunks[chunks.count - 1].reserveCapacity(1 << Self.chunkShift)
            }
            chunks[chunks.count - 1].append(connection)
            slotCount += 1
        }
        if (count + 1) * 4 > buckets.count * 3 { grow() }   // keep the load under 3/4
        place(slot, key: connection.key)
        count += 1
        return slot
    }

    /// Removes the connection in `slot` from the index and frees the slot.
    mutating func remove(_ slot: Int32) {
        let mask = buckets.count - 1
        var bucket = self[slot].key.hashValueForTable & mask
        while buckets[bucket] != slot { bucket = (bucket + 1) & mask }
        // Backward-shift deletion: pull later entries of the probe run into the hole, so that
        // lookups never stop early at it (no tombstones needed).
        var hole = bucket
        var next = (hole + 1) & mask
        while buckets[next] >= 0 {
            let home = self[buckets[next]].key.hashValueForTable & mask
            // Move the entry if its home bucket is not in (hole, next] cyclically.
            if (next > hole && (home <= hole || home > next)) || (next < hole && home <= hole && home > next) {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = -1
        freeSlots.append(slot)
        count -= 1
    }

    /// Every occupied slot, in no particular order.
    var occupiedSlots: [Int32] {
        buckets.filter { $0 >= 0 }
    }

    /// Empties the table.
    mutating func removeAll() {
        self = ConnectionTable()
    }

    private mutating func place(_ slot: Int32, key: FlowKey) {
        let mask = buckets.count - 1
        var bucket = key.hashValueForTable & mask
        while buckets[bucket] >= 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = slot
    }

    private mutating func grow() {
        let old = buckets
        buckets = Array(repeating: -1, count: old.count * 2)
        for slot in old where slot >= 0 { place(slot, key: self[slot].key) }
    }
}
