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
    private var recentlyClosed: [FlowKey: Connection] = [:]
    private var closedOrder: [FlowKey] = []
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
        if let closed = recentlyClosed[key] {
            if !(flags.contains(.syn) && !flags.contains(.ack)) { return closed.lateStep(packet) }
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
        let connection = Connection(id: nextID, first: packet, clock: clock)
        nextID += 1
        return table.insert(connection)
    }

    private func end(_ slot: Int32, outcome: Outcome?) {
        let connection = table[slot]
        ended.append(connection.summary(outcome: outcome))
        table.remove(slot)
        if outcome == .closed || outcome == .reset || outcome == .refused { rememberClosed(connection, key: connection.key) }
    }

    private func rememberClosed(_ connection: Connection, key: FlowKey) {
        if closedOrder.count < Self.recentlyClosedLimit {
            closedOrder.append(key)
        } else {
            recentlyClosed[closedOrder[closedCursor]] = nil
            closedOrder[closedCursor] = key
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

/// The 4-tuple in a canonical order, so both directions of a connection find the same entry.
struct FlowKey: Hashable {
    var lower: Endpoint
    var upper: Endpoint

    @inline(__always)
    init(_ a: Endpoint, _ b: Endpoint) {
        if (a.address.high, a.address.low, a.port) < (b.address.high, b.address.low, b.port) {
            (lower, upper) = (a, b)
        } else {
            (lower, upper) = (b, a)
        }
    }
}

/// Sequence-number comparison modulo 2^32 (RFC 9293 §3.4): `a` is at or after `b`.
@inline(__always)
func sequenceAtOrAfter(_ a: UInt32, _ b: UInt32) -> Bool {
    Int32(bitPattern: a &- b) >= 0
}

/// What the tracker remembers about one connection.
struct Connection {
    let id: Int
    var client: Endpoint
    var server: Endpoint
    var midstream = false
    var firstTime: Double
    var lastTime: Double
    var lastClock: Int
    var packets: Int32 = 1
    var bytesToServer: UInt64 = 0
    var bytesToClient: UInt64 = 0

    // The handshake.
    var synTime: Double?
    var lastSynTime = 0.0
    var synCount: Int32 = 0
    var lastSynAckTime = 0.0
    var synAckCount: Int32 = 0
    var established = false
    var handshakeRTT: Double?
    /// Initial sequence numbers, the base of relative numbers. Nil until seen.
    var clientBase: UInt32?
    var serverBase: UInt32?

    // The teardown: the sequence number just after each FIN (what its ACK acknowledges).
    var clientFinEnd: UInt32?
    var serverFinEnd: UInt32?
    var clientFinAcked = false
    var serverFinAcked = false
    var firstFin: Side?
    var simultaneousClose = false
    var resetMeaning: ResetMeaning?

    /// Creates the connection from its first packet, deciding who is the client.
    init(id: Int, first packet: Packet, clock: Int) {
        self.id = id
        let flags = packet.tcp.flags
        let time = packet.time.value
        firstTime = time
        lastTime = time
        lastClock = clock
        if flags.contains(.syn) && !flags.contains(.ack) {
            (client, server) = (packet.source, packet.destination)
        } else if flags.contains(.syn) {
            (client, server) = (packet.destination, packet.source)   // SYN-ACK: the sender is the server
        } else if packet.source.port > packet.destination.port {
            // Mid-stream: guess that the higher (ephemeral) port is the client's.
            (client, server) = (packet.source, packet.destination)
            midstream = true
        } else {
            (client, server) = (packet.destination, packet.source)
            midstream = true
        }
    }

    /// The 4-tuple, as the table indexes it.
    var key: FlowKey { FlowKey(client, server) }

    /// True when `packet` is another copy of this connection's SYN (same client, same ISN).
    func isRetransmittedSYN(_ packet: Packet) -> Bool {
        packet.source == client && clientBase == packet.tcp.sequence && !established
    }

    /// The step of the packet that opened the connection.
    mutating func firstStep(_ packet: Packet) -> TrackedPacket {
        let flags = packet.tcp.flags
        if flags.contains(.rst) {
            midstream = true
            resetMeaning = .unknownConnection
            countBytes(packet)
            return tracked(packet, step: .rst, meaning: .unknownConnection)
        }
        if flags.contains(.syn) && !flags.contains(.ack) {
            clientBase = packet.tcp.sequence
            synTime = packet.time.value
            lastSynTime = packet.time.value
            synCount = 1
            return tracked(packet, step: .handshakeSyn)
        }
        if flags.contains(.syn) {
            serverBase = packet.tcp.sequence
            clientBase = packet.tcp.acknowledgement &- 1
            lastSynAckTime = packet.time.value
            synAckCount = 1
            return tracked(packet, step: .handshakeSynAck)
        }
        // Mid-stream: the bases are the first numbers we see (Wireshark does the same).
        established = true
        if packet.source == client {
            clientBase = packet.tcp.sequence
            if flags.contains(.ack) { serverBase = packet.tcp.acknowledgement }
        } else {
            serverBase = packet.tcp.sequence
            if flags.contains(.ack) { clientBase = packet.tcp.acknowledgement }
        }
        countBytes(packet)
        return tracked(packet, step: .midstream)
    }

    /// A segment that arrives after the connection ended: a retransmitted FIN or ACK, or the RST
    /// a kernel sends because it no longer has a socket for this 4-tuple.
    func lateStep(_ packet: Packet) -> TrackedPacket {
        let flags = packet.tcp.flags
        if flags.contains(.rst) { return tracked(packet, step: .rst, meaning: .lateSegment) }
        if flags.contains(.fin) { return tracked(packet, step: .finPassive) }
        return tracked(packet, step: packet.tcp.payloadLength > 0 ? .data : .ack)
    }

    /// Moves the state machine on by one packet. `ended` is set when this packet ends the connection.
    mutating func advance(_ packet: Packet, clock: Int) -> (tracked: TrackedPacket, ended: Outcome?) {
        let tcp = packet.tcp
        let flags = tcp.flags
        let time = packet.time.value
        let fromClient = packet.source == client
        packets += 1
        lastTime = time
        lastClock = clock
        countBytes(packet)

        if flags.contains(.rst) {
            let meaning: ResetMeaning
            if !established && synAckCount == 0 && !fromClient {
                meaning = .refused
            } else if !established && fromClient {
                meaning = .abortedHandshake
            } else if (fromClient ? clientFinEnd : serverFinEnd) != nil {
                meaning = .dataAfterClose
            } else {
                meaning = .abortiveClose
            }
            resetMeaning = meaning
            return (tracked(packet, step: .rst, meaning: meaning), meaning == .refused ? .refused : .reset)
        }

        if flags.contains(.syn) && !flags.contains(.ack) {
            // isRetransmittedSYN said so: the same SYN again.
            synCount += 1
            var result = tracked(packet, step: .synRetransmit)
            result.retransmitGap = time - lastSynTime
            result.retransmitCount = Int(synCount)
            lastSynTime = time
            return (result, nil)
        }

        if flags.contains(.syn) {
            let retransmit = synAckCount > 0 && serverBase == tcp.sequence
            serverBase = tcp.sequence
            synAckCount += 1
            var result = tracked(packet, step: retransmit ? .synAckRetransmit : .handshakeSynAck)
            if retransmit {
                result.retransmitGap = time - lastSynAckTime
                result.retransmitCount = Int(synAckCount)
            }
            lastSynAckTime = time
            return (result, nil)
        }

        // Acknowledgements of FINs: the sequence number after the other side's FIN.
        var acknowledgesFin = false
        if flags.contains(.ack) {
            if fromClient, !serverFinAcked, let end = serverFinEnd, sequenceAtOrAfter(tcp.acknowledgement, end) {
                serverFinAcked = true
                acknowledgesFin = true
            }
            if !fromClient, !clientFinAcked, let end = clientFinEnd, sequenceAtOrAfter(tcp.acknowledgement, end) {
                clientFinAcked = true
                acknowledgesFin = true
            }
        }

        if flags.contains(.fin) {
            let finEnd = tcp.sequence &+ UInt32(truncatingIfNeeded: tcp.payloadLength) &+ 1
            let ownFinSeen = (fromClient ? clientFinEnd : serverFinEnd) != nil
            let side: Side = fromClient ? .client : .server
            if fromClient { clientFinEnd = finEnd } else { serverFinEnd = finEnd }
            established = true
            if ownFinSeen {
                // A retransmitted FIN: same role as the first copy.
                return (tracked(packet, step: firstFin == side ? .finActive : .finPassive), nil)
            }
            if firstFin == nil {
                firstFin = side
                return (tracked(packet, step: .finActive), nil)
            }
            // The other side's FIN. If it does not acknowledge the first FIN, the two crossed.
            let firstAcked = fromClient ? serverFinAcked : clientFinAcked
            var result = tracked(packet, step: .finPassive)
            result.acknowledgesFin = acknowledgesFin
            if !firstAcked {
                simultaneousClose = true
                result.simultaneousClose = true
            }
            return (result, nil)
        }

        var step: Step = tcp.payloadLength > 0 ? .data : .ack
        var result = tracked(packet, step: step)
        if !established && fromClient && synAckCount > 0, let serverISN = serverBase,
           flags.contains(.ack), tcp.acknowledgement == serverISN &+ 1 {
            established = true
            step = .handshakeAck
            result.step = step
            if let synTime {
                handshakeRTT = time - synTime
                result.handshakeRTT = handshakeRTT
            }
        } else if step == .data {
            established = true
            result.afterPeerFin = (fromClient ? serverFinEnd : clientFinEnd) != nil
        }
        result.acknowledgesFin = acknowledgesFin
        if clientFinEnd != nil && serverFinEnd != nil && clientFinAcked && serverFinAcked && step != .data {
            result.step = .teardownAck
            result.timeWait = timeWaitSide
            return (result, .closed)
        }
        return (result, nil)
    }

    private mutating func countBytes(_ packet: Packet) {
        let bytes = UInt64(packet.tcp.payloadLength)
        if packet.source == client { bytesToServer += bytes } else { bytesToClient += bytes }
    }

    private var timeWaitSide: TimeWait {
        if simultaneousClose { return .both }
        switch firstFin {
        case .client: return .client
        case .server: return .server
        case nil: return .none
        }
    }

    private func tracked(_ packet: Packet, step: Step, meaning: ResetMeaning? = nil) -> TrackedPacket {
        let fromClient = packet.source == client
        let ownBase = (fromClient ? clientBase : serverBase) ?? packet.tcp.sequence
        let peerBase = (fromClient ? serverBase : clientBase) ?? packet.tcp.acknowledgement
        return TrackedPacket(
            packet: packet, connection: id, step: step,
            direction: fromClient ? .toServer : .toClient,
            relativeSequence: packet.tcp.sequence &- ownBase,
            relativeAcknowledgement: packet.tcp.flags.contains(.ack) ? packet.tcp.acknowledgement &- peerBase : 0,
            resetMeaning: meaning, client: client, server: server)
    }

    /// The summary when the connection leaves the table; `outcome` nil means "judge from state".
    func summary(outcome given: Outcome?) -> ConnectionSummary {
        let outcome: Outcome
        if let given {
            outcome = given
        } else if resetMeaning != nil {
            outcome = resetMeaning == .refused ? .refused : .reset
        } else if clientFinEnd != nil && serverFinEnd != nil {
            outcome = clientFinAcked && serverFinAcked ? .closed : .closing
        } else if clientFinEnd != nil || serverFinEnd != nil {
            outcome = .halfClosed
        } else if !established && synAckCount == 0 && synCount > 0 {
            outcome = .noAnswer
        } else {
            outcome = .open
        }
        let closedBy: ClosedBy
        if resetMeaning != nil {
            closedBy = .reset
        } else if simultaneousClose {
            closedBy = .both
        } else {
            switch firstFin {
            case .client: closedBy = .client
            case .server: closedBy = .server
            case nil: closedBy = .open
            }
        }
        return ConnectionSummary(
            connection: id, client: client, server: server, handshakeRTT: handshakeRTT,
            bytesToServer: bytesToServer, bytesToClient: bytesToClient, closedBy: closedBy,
            timeWait: outcome == .closed ? timeWaitSide : .none, outcome: outcome,
            resetMeaning: resetMeaning, duration: lastTime - firstTime, packets: Int(packets),
            midstream: midstream, synRetransmits: Int(max(0, synCount - 1)))
    }
}
