import SocketCore
/// Sequence-number comparison modulo 2^32 (RFC 9293 §3.4): `a` is at or after `b`.
@inline(__always)
func sequenceAtOrAfter(_ a: UInt32, _ b: UInt32) -> Bool {
    Int32(bitPattern: a &- b) >= 0
}

/// What the tracker remembers about one connection (the epoll engine and the poll server have
/// connections of their own: EpollConnection, PollServer.Client).
struct TrackedConnection {
    let id: Int
    var client: Endpoint
    var server: Endpoint
    var midstream = false
    var firstTime: Double
    var lastTime: Double
    /// The last packet's stamp, exactly as captured: the `time` of the connection's summary.
    var lastStamp: Timestamp
    var lastClock: Int
    var packets = 1
    var bytesToServer: UInt64 = 0
    var bytesToClient: UInt64 = 0

    // The handshake.
    var synTime: Double?
    var lastSynTime = 0.0
    var synCount = 0
    var lastSynAckTime = 0.0
    var synAckCount = 0
    var established = false
    var handshakeRTT: Double?
    /// The base of each side's relative numbers: its initial sequence number, or for a side met
    /// without its SYN, one less than the first number seen (`learnBases`). Nil until seen.
    var clientBase: UInt32?
    var serverBase: UInt32?
    /// Each side's window scale shift from its SYN (nil: its SYN was not seen, or had no
    /// option), and whether that SYN was seen at all.
    var clientWindowScale: UInt8?
    var serverWindowScale: UInt8?
    var clientSynSeen = false
    var serverSynSeen = false

    // The teardown: the sequence number just after each FIN (what its ACK acknowledges).
    var clientFinEnd: UInt32?
    var serverFinEnd: UInt32?
    var clientFinAcked = false
    var serverFinAcked = false
    var firstFin: ConnectionSide?
    var simultaneousClose = false
    var resetMeaning: ResetMeaning?
    /// Zeek's view of the connection: its history letters and each end's last state.
    var history = ZeekHistory()
    var zeekEnds = ZeekEndpoints()
    /// Wireshark's TCP analysis of the two directions (retransmissions, duplicate ACKs, windows).
    var streamAnalysis = StreamAnalysis()

    /// Creates the connection from its first packet, deciding who is the client.
    init(id: Int, first packet: Packet, clock: Int) {
        self.id = id
        let flags = packet.tcp.flags
        let time = packet.time.value
        firstTime = time
        lastTime = time
        lastStamp = packet.time
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
        if packet.source != client { history.flipped() }
        recordForZeek(packet)
        learnBases(packet)
        countBytes(packet)   // a SYN may carry data too (TCP Fast Open)
        if flags.contains(.rst) {
            midstream = true
            resetMeaning = .unknownConnection
            return tracked(packet, step: .rst, meaning: .unknownConnection)
        }
        if flags.contains(.syn) { learnWindowScale(packet) }
        let analysis = analyze(packet)
        if flags.contains(.syn) && !flags.contains(.ack) {
            synTime = packet.time.value
            lastSynTime = packet.time.value
            synCount = 1
            return tracked(packet, step: .handshakeSyn)
        }
        if flags.contains(.syn) {
            lastSynAckTime = packet.time.value
            synAckCount = 1
            return tracked(packet, step: .handshakeSynAck)
        }
        established = true
        if flags.contains(.fin) {
            // The capture began at the close: this FIN is the first of the teardown (the active
            // close), so the other side's FIN will be the passive one.
            let finEnd = packet.tcp.sequence &+ UInt32(truncatingIfNeeded: packet.tcp.payloadLength) &+ 1
            if packet.source == client { clientFinEnd = finEnd } else { serverFinEnd = finEnd }
            firstFin = packet.source == client ? .client : .server
        }
        var result = tracked(packet, step: .midstream)
        result.attach(analysis)
        return result
    }

    /// Sets the base of each side's relative numbers the way Wireshark does: a side's initial
    /// sequence number (ISN) when its SYN is seen; otherwise one less than the first sequence
    /// number it sends, or one less than the first acknowledgement number its peer sends, so that
    /// a connection met mid-stream counts from 1 in both directions, as in Wireshark.
    private mutating func learnBases(_ packet: Packet) {
        let tcp = packet.tcp
        let fromClient = packet.source == client
        let ownBase = tcp.flags.contains(.syn) ? tcp.sequence : tcp.sequence &- 1
        if fromClient {
            if clientBase == nil { clientBase = ownBase }
            if serverBase == nil && tcp.flags.contains(.ack) { serverBase = tcp.acknowledgement &- 1 }
        } else {
            if serverBase == nil { serverBase = ownBase }
            if clientBase == nil && tcp.flags.contains(.ack) { clientBase = tcp.acknowledgement &- 1 }
        }
    }

    /// A segment that arrives after the connection ended: a retransmitted FIN or ACK, or the RST
    /// a kernel sends because it no longer has a socket for this 4-tuple.
    /// The analysis goes on over them (a copy of the last ACK is a duplicate ACK).
    mutating func lateStep(_ packet: Packet) -> TrackedPacket {
        let flags = packet.tcp.flags
        let analysis = analyze(packet)
        var result: TrackedPacket
        if flags.contains(.rst) {
            result = tracked(packet, step: .rst, meaning: .lateSegment)
        } else if flags.contains(.fin) {
            result = tracked(packet, step: .finPassive)
        } else {
            result = tracked(packet, step: packet.tcp.payloadLength > 0 ? .data : .ack)
        }
        result.attach(analysis)
        return result
    }

    /// Moves the state machine on by one packet. `ended` is set when this packet ends the
    /// connection. Each kind of segment has its handler, as the TCP state diagram (RFC 9293
    /// §3.3.2) has its arrows: RST, SYN, SYN-ACK, FIN, and the ACK (with or without data).
    mutating func advance(_ packet: Packet, clock: Int) -> (tracked: TrackedPacket, ended: Outcome?) {
        let flags = packet.tcp.flags
        packets += 1
        recordForZeek(packet)
        lastTime = packet.time.value
        lastStamp = packet.time
        lastClock = clock
        learnBases(packet)
        countBytes(packet)
        if flags.contains(.syn) { learnWindowScale(packet) }
        let analysis = analyze(packet)

        var result: (tracked: TrackedPacket, ended: Outcome?)
        if flags.contains(.rst) {
            result = reset(packet)
        } else if flags.contains(.syn) && !flags.contains(.ack) {
            result = (retransmittedSyn(packet), nil)
        } else if flags.contains(.syn) {
            result = (synAck(packet), nil)
        } else {
            let acknowledgesFin = flags.contains(.ack) && noteFinAcknowledgement(packet)
            result = flags.contains(.fin) ? (fin(packet, acknowledgesFin: acknowledgesFin), nil)
                                          : acknowledgement(packet, acknowledgesFin: acknowledgesFin)
        }
        result.tracked.attach(analysis)
        return result
    }

    /// Runs the TCP analysis (retransmissions, duplicate ACKs, windows) on one segment.
    private mutating func analyze(_ packet: Packet) -> SegmentAnalysis {
        streamAnalysis.analyze(packet, fromClient: packet.source == client, windowBytes: windowBytes(packet))
    }

    /// RST: the connection is aborted. Its meaning depends on how far the connection got.
    private mutating func reset(_ packet: Packet) -> (tracked: TrackedPacket, ended: Outcome?) {
        let fromClient = packet.source == client
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
        var result = tracked(packet, step: .rst, meaning: meaning)
        // The RST that refuses a SYN comes from a side that never chose a sequence number: RFC
        // 9293 has it carry seq 0 (Linux does), so its raw number is shown, not one relative to
        // a base it never had. A RST's window means nothing: shown as sent, without the "?" of a
        // window whose scale is unknown.
        if meaning == .refused { result.relativeSequence = packet.tcp.sequence }
        if result.window == nil { result.window = Int(packet.tcp.window) }
        return (result, meaning == .refused ? .refused : .reset)
    }

    /// SYN on a known connection: isRetransmittedSYN said so, the same SYN again. If the
    /// capture began after the first copy (it met the SYN-ACK first), that copy counts but its
    /// time is unknown.
    private mutating func retransmittedSyn(_ packet: Packet) -> TrackedPacket {
        let time = packet.time.value
        var result = tracked(packet, step: .synRetransmit)
        result.retransmitGap = synCount > 0 ? time - lastSynTime : nil
        synCount = max(synCount, 1) + 1
        result.retransmitCount = synCount
        lastSynTime = time
        return result
    }

    /// SYN-ACK: the server's answer, or the same answer again when the client's ACK is late.
    private mutating func synAck(_ packet: Packet) -> TrackedPacket {
        let time = packet.time.value
        let retransmit = synAckCount > 0 && serverBase == packet.tcp.sequence
        serverBase = packet.tcp.sequence
        synAckCount += 1
        var result = tracked(packet, step: retransmit ? .synAckRetransmit : .handshakeSynAck)
        if retransmit {
            result.retransmitGap = time - lastSynAckTime
            result.retransmitCount = synAckCount
        }
        lastSynAckTime = time
        return result
    }

    /// Notes whether this segment acknowledges the other side's FIN (the sequence number just
    /// after it), the first time it does.
    private mutating func noteFinAcknowledgement(_ packet: Packet) -> Bool {
        let ack = packet.tcp.acknowledgement
        if packet.source == client {
            guard !serverFinAcked, let end = serverFinEnd, sequenceAtOrAfter(ack, end) else { return false }
            serverFinAcked = true
        } else {
            guard !clientFinAcked, let end = clientFinEnd, sequenceAtOrAfter(ack, end) else { return false }
            clientFinAcked = true
        }
        return true
    }

    /// FIN: the active close (first FIN), the passive one (second), or a copy of either.
    private mutating func fin(_ packet: Packet, acknowledgesFin: Bool) -> TrackedPacket {
        let tcp = packet.tcp
        let fromClient = packet.source == client
        let finEnd = tcp.sequence &+ UInt32(truncatingIfNeeded: tcp.payloadLength) &+ 1
        let ownFinSeen = (fromClient ? clientFinEnd : serverFinEnd) != nil
        let side: ConnectionSide = fromClient ? .client : .server
        if fromClient { clientFinEnd = finEnd } else { serverFinEnd = finEnd }
        established = true
        if ownFinSeen {
            // A retransmitted FIN: same role as the first copy.
            return tracked(packet, step: firstFin == side ? .finActive : .finPassive)
        }
        if firstFin == nil {
            firstFin = side
            return tracked(packet, step: .finActive)
        }
        // The other side's FIN. If it does not acknowledge the first FIN, the two crossed.
        let firstAcked = fromClient ? serverFinAcked : clientFinAcked
        var result = tracked(packet, step: .finPassive)
        result.acknowledgesFin = acknowledgesFin
        if !firstAcked {
            simultaneousClose = true
            result.simultaneousClose = true
        }
        return result
    }

    /// ACK, with or without data: the handshake's third segment, data, a pure ACK, or the last
    /// ACK of the teardown (which ends the connection).
    private mutating func acknowledgement(_ packet: Packet, acknowledgesFin: Bool) -> (tracked: TrackedPacket, ended: Outcome?) {
        let tcp = packet.tcp
        let fromClient = packet.source == client
        var step: Step = tcp.payloadLength > 0 ? .data : .ack
        var result = tracked(packet, step: step)
        if !established && fromClient && synAckCount > 0, let serverISN = serverBase,
           tcp.flags.contains(.ack), tcp.acknowledgement == serverISN &+ 1 {
            established = true
            step = .handshakeAck
            result.step = step
            if let synTime {
                handshakeRTT = packet.time.value - synTime
                result.handshakeRTT = handshakeRTT
            }
        } else if step == .data {
            established = true
            result.afterPeerFin = (fromClient ? serverFinEnd : clientFinEnd) != nil
        }
        result.acknowledgesFin = acknowledgesFin
        result.simultaneousClose = acknowledgesFin && simultaneousClose
        if clientFinEnd != nil && serverFinEnd != nil && clientFinAcked && serverFinAcked && step != .data {
            result.step = .teardownAck
            result.timeWait = timeWaitSide
            return (result, .closed)
        }
        return (result, nil)
    }

    /// Remembers a SYN's window scale option (RFC 7323 §2): it applies to every later segment
    /// of that side, and only when both SYNs carried it.
    /// A retransmitted copy keeps the first copy's option (a small snapshot length may cut it).
    private mutating func learnWindowScale(_ packet: Packet) {
        if packet.source == client {
            if !clientSynSeen { clientWindowScale = packet.tcp.options.windowScale }
            clientSynSeen = true
        } else {
            if !serverSynSeen { serverWindowScale = packet.tcp.options.windowScale }
            serverSynSeen = true
        }
    }

    /// The advertised receive window in bytes, or nil when it cannot be known. A SYN's window is
    /// never scaled; any other segment's is shifted by its sender's scale when both SYNs were
    /// seen and both offered the option (the shift is at most 14), and taken as it is when one
    /// did not. Without both SYNs the scale is unknown.
    func windowBytes(_ packet: Packet) -> Int? {
        let raw = Int(packet.tcp.window)
        if packet.tcp.flags.contains(.syn) { return raw }
        guard clientSynSeen && serverSynSeen else { return nil }
        guard let clientScale = clientWindowScale, let serverScale = serverWindowScale else { return raw }
        return raw << Int(min(14, packet.source == client ? clientScale : serverScale))
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
        var result = TrackedPacket(
            packet: packet, connection: id, step: step,
            direction: fromClient ? .toServer : .toClient,
            relativeSequence: packet.tcp.sequence &- ownBase,
            relativeAcknowledgement: packet.tcp.flags.contains(.ack) ? packet.tcp.acknowledgement &- peerBase : 0,
            resetMeaning: meaning, client: client, server: server)
        result.window = windowBytes(packet)
        return result
    }

    /// Zeek's history letter(s) and endpoint states for one segment; the client is Zeek's originator.
    private mutating func recordForZeek(_ packet: Packet) {
        let fromOriginator = packet.source == client
        history.record(packet.tcp, fromOriginator: fromOriginator)
        zeekEnds.record(packet.tcp, fromOriginator: fromOriginator)
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
        } else if !established && synAckCount == 0 && synCount > 1 {
            // Retransmitted SYNs and no SYN-ACK. A single SYN just before the capture ended (or
            // Ctrl-C) was not unanswered, only not answered yet: that one is still open.
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
        var summary = ConnectionSummary(
            connection: id, lastPacketTime: lastStamp, client: client, server: server, handshakeRTT: handshakeRTT,
            bytesToServer: bytesToServer, bytesToClient: bytesToClient, closedBy: closedBy,
            timeWait: outcome == .closed ? timeWaitSide : .none, outcome: outcome,
            resetMeaning: resetMeaning, duration: lastTime - firstTime, packets: packets,
            midstream: midstream, synRetransmits: max(0, synCount - 1),
            connState: zeekEnds.code(history: history.text, originatorBytes: bytesToServer, responderBytes: bytesToClient),
            history: history.text)
        let flows = [streamAnalysis.client, streamAnalysis.server]
        summary.retransmittedSegments = flows.reduce(0) { $0 + $1.retransmittedSegments }
        summary.retransmittedBytes = flows.reduce(0) { $0 + $1.retransmittedBytes }
        summary.duplicateAcks = flows.reduce(0) { $0 + $1.duplicateAckCount }
        summary.highestBackoff = flows.reduce(0) { max($0, $1.highestBackoff) }
        // A window still closed when the capture ended counts until the last packet.
        summary.zeroWindowSeconds = flows.reduce(0.0) { $0 + $1.zeroWindowSeconds + ($1.zeroWindowSince.map { max(0, lastTime - $0) } ?? 0) }
        return summary
    }
}
