import Timeline

/// JSON Lines: one object per packet, per ended connection, and the stats at the end.
///
///     {"type":"packet","time":1700000000.000010,"src":"127.0.0.1","sport":43994,"dst":"127.0.0.1",
///      "dport":5000,"flags":["SYN","ACK"],"seq":416747519,"ack":1075903421,"len":0,"win":65483,
///      "win_raw":65483,"conn":1,"step":"handshake-syn-ack"}
///
/// `win` is the advertised window in bytes, scaled as the handshake negotiated; `null` when the
/// handshake was not captured, so the scale is unknown (`win_raw` is the header's field).
///
/// Written byte by byte into the reusable output buffer: no String, no allocation per packet.
public final class JSONRenderer: Renderer {
    public let output: OutputBuffer

    public init(output: OutputBuffer) {
        self.output = output
    }

    public func packet(_ tracked: TrackedPacket) {
        let out = output
        let packet = tracked.packet
        out.ascii("{\"type\":\"packet\",\"time\":")
        writeTime(packet.time)
        out.ascii(",\"src\":\"")
        out.address(packet.source.address)
        out.ascii("\",\"sport\":")
        out.decimal(packet.source.port)
        out.ascii(",\"dst\":\"")
        out.address(packet.destination.address)
        out.ascii("\",\"dport\":")
        out.decimal(packet.destination.port)
        out.ascii(",\"flags\":[")
        var first = true
        for (flag, name) in TCPFlags.names where packet.tcp.flags.contains(flag) {
            if !first { out.byte(44) }
            first = false
            out.byte(34)
            out.ascii(name)
            out.byte(34)
        }
        out.ascii("],\"seq\":")
        out.decimal(packet.tcp.sequence)
        out.ascii(",\"ack\":")
        out.decimal(packet.tcp.acknowledgement)
        out.ascii(",\"len\":")
        out.decimal(packet.tcp.payloadLength)
        out.ascii(",\"win\":")
        if let window = tracked.window { out.decimal(window) } else { out.ascii("null") }
        out.ascii(",\"win_raw\":")
        out.decimal(packet.tcp.window)
        out.ascii(",\"conn\":")
        out.decimal(tracked.connection)
        out.ascii(",\"step\":\"")
        out.ascii(Self.stepName(tracked.step))
        out.ascii("\",\"frame\":")
        out.decimal(packet.number)
        writeAnalysis(tracked)
        out.ascii("}")
        out.endLine()
    }

    /// `,"analysis":["duplicate-ack"],"dup_ack":2,"sack":[[l,r]]`: the TCP analysis's names
    /// (always, `[]` when none), then the numbers behind them when they apply: every value the
    /// table's finding sentences name can be filled from them (the page does, index.html).
    @inline(__always)
    private func writeAnalysis(_ tracked: TrackedPacket) {
        let out = output
        let found = tracked.findings
        out.ascii(",\"analysis\":[")
        if !found.isEmpty {
            var first = true
            for (finding, name) in TCPAnalysis.names where found.contains(finding) {
                if !first { out.byte(44) }
                first = false
                out.byte(34)
                out.ascii(name)
                out.byte(34)
            }
        }
        out.byte(93)
        if found.isEmpty && tracked.packet.tcp.options.sack.count == 0 { return }
        let analysis = tracked.analysis
        if found.contains(.duplicateAck) {
            out.ascii(",\"dup_ack\":")
            out.decimal(analysis.duplicateAckNumber)
        }
        if found.contains(.fastRetransmission) {
            out.ascii(",\"dup_acks_before\":")
            out.decimal(analysis.duplicateAcksBefore)
        }
        if !found.isDisjoint(with: TCPAnalysis.anyRetransmission) {
            out.ascii(",\"since_original_ms\":")
            if let since = analysis.sinceOriginal { out.fixed(since * 1000, decimals: 3) } else { out.ascii("null") }
            if let since = analysis.sinceHighest {
                out.ascii(",\"since_highest_ms\":")
                out.fixed(since * 1000, decimals: 3)
            }
            if analysis.backoff > 0 {
                out.ascii(",\"backoff\":")
                out.decimal(analysis.backoff)
            }
        }
        if found.contains(.previousSegmentNotCaptured), let from = analysis.missingFrom {
            out.ascii(",\"missing_from\":")
            out.decimal(from)
        }
        if let kernel = tracked.kernelRetransmit {
            out.ascii(kernel ? ",\"kernel_retransmit\":true" : ",\"kernel_retransmit\":false")
        }
        let sack = tracked.packet.tcp.options.sack
        if sack.count > 0 {
            out.ascii(",\"sack\":[")
            for index in 0..<sack.count {
                if index > 0 { out.byte(44) }
                out.byte(91)
                out.decimal(sack[index].left)
                out.byte(44)
                out.decimal(sack[index].right)
                out.byte(93)
            }
            out.byte(93)
            if sack.isDuplicate(acknowledgement: tracked.packet.tcp.acknowledgement) { out.ascii(",\"dsack\":true") }
        }
    }

    /// The sidecar's object as it was recorded: the same line as in the `.events.jsonl` file.
    /// A call handed over in two halves (beside a text renderer) is written once, whole, at its
    /// return: JSON has its `time` and `duration`.
    public func event(_ event: TimelineEvent) {
        var event = event
        switch event.string("part") {
        case "start": return
        case "return":
            event.time = event.time.adding(seconds: -(event.duration ?? 0))
            event["part"] = nil
        default: break
        }
        output.string(event.jsonLine)
        output.endLine()
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        let out = output
        out.ascii("{\"type\":\"connection\",\"time\":")
        writeTime(summary.lastPacketTime)
        out.ascii(",\"conn\":")
        out.decimal(summary.connection)
        out.ascii(",\"client\":\"")
        out.string(summary.client.description)
        out.ascii("\",\"server\":\"")
        out.string(summary.server.description)
        out.ascii("\",\"handshake_rtt_ms\":")
        if let rtt = summary.handshakeRTT { out.fixed(rtt * 1000, decimals: 3) } else { out.ascii("null") }
        out.ascii(",\"bytes_to_server\":")
        out.decimal(summary.bytesToServer)
        out.ascii(",\"bytes_to_client\":")
        out.decimal(summary.bytesToClient)
        out.ascii(",\"closed_by\":\"")
        out.string(summary.closedBy.rawValue)
        out.ascii("\",\"time_wait\":\"")
        out.string(summary.timeWait.rawValue)
        out.ascii("\",\"outcome\":\"")
        out.string(summary.outcome.rawValue)
        out.ascii("\",\"duration_s\":")
        out.fixed(summary.duration, decimals: 6)
        out.ascii(",\"packets\":")
        out.decimal(summary.packets)
        if !summary.clientStates.isEmpty || !summary.serverStates.isEmpty {
            out.ascii(",\"client_states\":[")
            out.string(summary.clientStates.map { "\"\($0)\"" }.joined(separator: ","))
            out.ascii("],\"server_states\":[")
            out.string(summary.serverStates.map { "\"\($0)\"" }.joined(separator: ","))
            out.ascii("]")
        }
        if let seconds = summary.timeWaitSeconds {
            out.ascii(",\"time_wait_s\":")
            out.fixed(seconds, decimals: 3)
        }
        out.ascii(",\"retransmits\":")
        out.decimal(summary.retransmittedSegments)
        out.ascii(",\"retransmitted_bytes\":")
        out.decimal(summary.retransmittedBytes)
        out.ascii(",\"dup_acks\":")
        out.decimal(summary.duplicateAcks)
        out.ascii(",\"zero_window_s\":")
        out.fixed(summary.zeroWindowSeconds, decimals: 6)
        out.ascii(",\"max_backoff\":")
        out.decimal(summary.highestBackoff)
        out.ascii(",\"conn_state\":\"")
        out.string(summary.connState.rawValue)
        out.ascii("\",\"history\":\"")
        out.string(summary.history)
        out.ascii("\"}")
        out.endLine()
    }

    public func finish(_ stats: CaptureStats) {
        let out = output
        out.ascii("{\"type\":\"stats\",\"time\":")
        writeTime(stats.endTime)
        out.ascii(",\"received\":")
        out.decimal(stats.received)
        out.ascii(",\"dropped\":")
        out.decimal(stats.dropped)
        out.ascii(",\"skipped\":")
        out.decimal(stats.skipped)
        out.ascii("}")
        out.endLine()
        out.flush()
    }

    /// A stamp as epoch seconds with the capture's precision (EVENTS.md's `time`).
    @inline(__always)
    private func writeTime(_ time: Timestamp) {
        output.decimal(time.seconds)
        output.byte(46)
        output.zeroPadded(time.fraction, width: time.isNanosecond ? 9 : 6)
    }

    /// The step names as static strings (Step's raw values, without building a String).
    @inline(__always)
    static func stepName(_ step: Step) -> StaticString {
        switch step {
        case .handshakeSyn: return "handshake-syn"
        case .handshakeSynAck: return "handshake-syn-ack"
        case .handshakeAck: return "handshake-ack"
        case .synRetransmit: return "syn-retransmit"
        case .synAckRetransmit: return "syn-ack-retransmit"
        case .data: return "data"
        case .ack: return "ack"
        case .retransmit: return "retransmit"
        case .dupAck: return "dup-ack"
        case .probe: return "probe"
        case .finActive: return "fin-active"
        case .finPassive: return "fin-passive"
        case .teardownAck: return "teardown-ack"
        case .rst: return "rst"
        case .midstream: return "midstream"
        }
    }
}
