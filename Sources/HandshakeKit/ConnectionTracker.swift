/// Follows TCP connections through the state machine, packet by packet.
///
/// A connection is keyed by its 4-tuple (addresses and ports of both ends), the same in both
/// directions. The tracker names each segment's step (handshake, data, teardown, reset), keeps
/// the counters a summary needs, and lets a connection go as soon as its teardown is complete, so
/// memory stays bounded by the connections still open; past `limit` the longest idle are evicted.
public final class ConnectionTracker {
    /// The most connections tracked at once (`--max-connections`).
    public let limit: Int
    /// Connections ended since the caller last drained them, in the order they ended.
    public private(set) var ended: [ConnectionSummary] = []
    /// How many connections are in the table now.
    public var openCount: Int { table.count }

    private var table = ConnectionTable()
    private var nextID = 1
    private var clock = 0   // packets tracked so far: the idle measure for eviction
    /// Connections that just ended, so their stray segments (a retransmitted last ACK or FIN, the
    /// RST answering it) are told as late segments of that connection, not as a new one. Like the
    /// kernel's TIME_WAIT, but bounded by count: the oldest are forgotten first.
    private var recentlyClosed: [FlowKey: TrackedConnection] = [:]
    /// The remembered connections, oldest first (a ring): key and connection number.
    private var closedOrder: [(key: FlowKey, id: Int)] = []
    private var closedCursor = 0
    static let recentlyClosedLimit = 4_096

    public init(limit: Int = 65_536) {
        self.limit = max(1, limit)
        ended.reserveCapacity(64)
    }

    /// Takes a packet through its connection's state machine and says what it did.
    public func track(_ packet: Packet) -> TrackedPacket {
        clock += 1
        let key = FlowKey(packet.source, packet.destination)
        let flags = packet.tcp.flags
        if var slot = table.find(key) {
            if flags.contains(.syn) && !flags.contains(.ack) && !table[slot].isRetransmittedSYN(packet) {
                // A new SYN on a known 4-tuple: the port was reused. The old connection is over.
                end(slot, outcome: nil)
                slot = open(packet)
                return table[slot].firstStep(packet)
            }
            let result = table[slot].advance(packet, clock: clock)
            if let outcome = result.ended { end(slot, outcome: outcome) }
            return result.tracked
        }
        if recentlyClosed[key] != nil {
            if !(flags.contains(.syn) && !flags.contains(.ack)) { return recentlyClosed[key]!.lateStep(packet) }
            recentlyClosed[key] = nil   // a new SYN: the port is reused for a new connection
        }
        let slot = open(packet)
        let tracked = table[slot].firstStep(packet)
        if tracked.step == .rst { end(slot, outcome: .reset) }
        return tracked
    }

    /// Ends every connection still in the table (end of capture), in connection order, handing
    /// each summary to `body` as it goes (100,000 open connections need no second copy).
    public func finishAll(_ body: (ConnectionSummary) -> Void) {
        drainEnded(body)
        var open = table.occupiedSlots
        open.sort { table[$0].id < table[$1].id }
        for slot in open { body(table[slot].summary(outcome: nil)) }
        table.removeAll()
    }

    /// Hands the connections that ended to `body` and forgets them.
    public func drainEnded(_ body: (ConnectionSummary) -> Void) {
        guard !ended.isEmpty else { return }
        for summary in ended { body(summary) }
        ended.removeAll(keepingCapacity: true)
    }

    private func open(_ packet: Packet) -> Int32 {
        if table.count >= limit { evictIdle() }
        let connection = TrackedConnection(id: nextID, first: packet, clock: clock)
        nextID += 1
        return table.insert(connection)
    }

    private func end(_ slot: Int32, outcome: Outcome?) {
        let connection = table[slot]
        ended.append(connection.summary(outcome: outcome))
        table.remove(slot)
        if outcome == .closed || outcome == .reset || outcome == .refused { rememberClosed(connection, key: connection.key) }
    }

    private func rememberClosed(_ connection: TrackedConnection, key: FlowKey) {
        if closedOrder.count < Self.recentlyClosedLimit {
            closedOrder.append((key, connection.id))
        } else {
            // Forget the oldest, unless its 4-tuple has been reused and closed again since: the
            // newer connection keeps its own turn in the ring.
            let oldest = closedOrder[closedCursor]
            if recentlyClosed[oldest.key]?.id == oldest.id { recentlyClosed[oldest.key] = nil }
            closedOrder[closedCursor] = (key, connection.id)
            closedCursor = (closedCursor + 1) % Self.recentlyClosedLimit
        }
        recentlyClosed[key] = connection
    }

    /// Evicts the idlest eighth of the table at once, so eviction costs O(log n) per connection.
    private func evictIdle() {
        let count = max(1, table.count / 8)
        let idlest = table.occupiedSlots.sorted { table[$0].lastClock < table[$1].lastClock }.prefix(count)
        for slot in idlest { end(slot, outcome: .evicted) }
    }
}
