import Timeline

/// The sentence printed beside a segment: what the system calls on each side are doing while it
/// crosses the wire. The lessons quote these.
public enum StepExplanation {
    public static func text(for tracked: TrackedPacket) -> String {
        let findings = AnalysisExplanation.text(for: tracked)
        switch tracked.step {
        case .retransmit, .dupAck, .probe:
            return findings
        default:
            let base = stepText(for: tracked)
            return findings.isEmpty ? base : base + "; " + findings
        }
    }

    /// Writes `text(for:)` into the output buffer, the same bytes, piece by piece from the
    /// wording table's template (no String built for the segments of every connection). The
    /// analysis's findings go through `text(for:)`.
    static func write(_ tracked: TrackedPacket, into out: OutputBuffer) {
        if !tracked.findings.isEmpty || tracked.packet.tcp.options.sack.count > 0 {
            return out.string(text(for: tracked))
        }
        switch tracked.step {
        case .retransmit, .dupAck, .probe:
            return out.string(text(for: tracked))
        default:
            break
        }
        let toServer = tracked.direction == .toServer
        for part in sentenceParts[wordingKey(tracked)] ?? StepWording.parts(StepWording.words(wordingKey(tracked)).sentence) {
            switch part {
            case .text(let text): out.string(text)
            case .slot("sender"): out.ascii(toServer ? "client" : "server")
            case .slot("receiver"): out.ascii(toServer ? "server" : "client")
            case .slot("ack"): out.decimal(tracked.relativeAcknowledgement)
            case .slot("bytes"):
                let bytes = tracked.packet.tcp.payloadLength
                out.decimal(bytes)
                out.ascii(bytes == 1 ? " byte" : " bytes")
            case .slot(let name): out.string(value(name, tracked))
            }
        }
    }

    /// Each sentence of the wording table, split once.
    static let sentenceParts: [String: [StepWording.Part]] = StepWording.table.mapValues { StepWording.parts($0.sentence) }

    /// The step's own sentence, before the analysis's findings.
    static func stepText(for tracked: TrackedPacket) -> String {
        switch tracked.step {
        case .retransmit, .dupAck, .probe:
            return AnalysisExplanation.text(for: tracked)
        default:
            return words(tracked, \.sentence)
        }
    }

    /// The step's caption for the ladder: the wording table's, filled in.
    static func caption(for tracked: TrackedPacket) -> String { words(tracked, \.caption) }

    /// The caption of `key` (`data/finding`) for this segment, with its `{finding}`.
    static func caption(for tracked: TrackedPacket, key: String, finding: String) -> String {
        words(tracked, \.caption, key: key, finding: finding)
    }

    /// One of the table's templates for this segment, filled in.
    static func words(_ tracked: TrackedPacket, _ which: KeyPath<StepWording.Words, String>,
                      key: String? = nil, finding: String = "") -> String {
        let template = StepWording.words(key ?? wordingKey(tracked))[keyPath: which]
        return StepWording.parts(template).map { part in
            switch part {
            case .text(let text): text
            case .slot("finding"): finding
            case .slot(let name): value(name, tracked)
            }
        }.joined()
    }

    /// The wording table's key for this segment: its step, and the variant that applies.
    static func wordingKey(_ tracked: TrackedPacket) -> String {
        let step = tracked.step.rawValue
        switch tracked.step {
        case .data: return tracked.afterPeerFin ? "data/half-close" : step
        case .ack where tracked.acknowledgesFin: return tracked.simultaneousClose ? "ack/fins-crossed" : "ack/fin"
        case .finPassive where tracked.simultaneousClose: return "fin-passive/fins-crossed"
        case .teardownAck:
            switch tracked.timeWait {
            case .both: return "teardown-ack/both"
            case .none: return "teardown-ack/none"
            case .client, .server: return step
            }
        case .probe: return tracked.findings.contains(.zeroWindowProbe) ? "probe/zero-window" : "probe/keep-alive"
        case .midstream where tracked.packet.tcp.flags.contains(.fin): return "midstream/fin"
        case .rst:
            if tracked.resetMeaning == .abortiveClose, let cause = tracked.resetCause {
                switch cause {
                case .listenerClosed: return "rst/listener-closed"
                case .lingerZero: return "rst/linger-zero"
                }
            }
            switch tracked.resetMeaning {
            case .refused: return "rst/refused"
            case .abortedHandshake: return "rst/aborted-handshake"
            case .abortiveClose: return "rst/abortive"
            case .dataAfterClose: return "rst/data-after-close"
            case .lateSegment: return "rst/late-segment"
            case .unknownConnection, nil: return "rst/unknown"
            }
        default: return step
        }
    }

    /// The value of one `{name}` of the wording table, for this segment.
    static func value(_ name: String, _ tracked: TrackedPacket) -> String {
        let toServer = tracked.direction == .toServer
        switch name {
        case "sender": return toServer ? "client" : "server"
        case "receiver": return toServer ? "server" : "client"
        case "bytes":
            let bytes = tracked.packet.tcp.payloadLength
            return "\(bytes) byte\(bytes == 1 ? "" : "s")"
        case "ack": return String(tracked.relativeAcknowledgement)
        // The FIN of a passive close follows recv() returning 0: close() unless recorded otherwise.
        case "call": return tracked.step == .finPassive ? tracked.call ?? "close()" : closingCall(tracked)
        case "closer": return tracked.timeWait == .server ? "server" : "client"
        case "other": return tracked.timeWait == .server ? "client" : "server"
        case "rtt": return tracked.handshakeRTT.map { " (handshake RTT \(milliseconds($0)))" } ?? ""
        case "copy": return String(tracked.retransmitCount)
        case "gap": return gap(tracked)
        case "after": return tracked.retransmitGap.map { " after \(seconds($0))" } ?? ""
        case "since": return tracked.analysis.sinceOriginal.map { " after \(seconds($0))" } ?? ""
        case "kind":
            let found = tracked.findings
            if found.contains(.fastRetransmission) { return "fast retransmission" }
            if found.contains(.spuriousRetransmission) { return "spurious retransmission" }
            return "retransmission"
        case "n": return String(tracked.analysis.duplicateAckNumber)
        case "port": return String(tracked.server.port)
        case "listener": return listenerClause(toServer: toServer)
        case "maybe": return toServer ? "unread data" : "listener closed"
        default: return "{\(name)}"
        }
    }

    /// A reset's possible causes include a listener closed before accept() only for the server:
    /// only a server has a listener whose queue can hold the connection.
    static func listenerClause(toServer: Bool) -> String {
        toServer ? "" : ", or a listener closed before accept() took it"
    }

    /// The call that sent a FIN: the one the recorded events name, or both candidates.
    static func closingCall(_ tracked: TrackedPacket) -> String {
        tracked.call ?? "close() or shutdown(SHUT_WR)"
    }

    /// A one-line account of a connection, for the text and ladder summaries.
    public static func summary(_ summary: ConnectionSummary) -> String {
        var parts: [String] = []
        if summary.midstream { parts.append("mid-stream") }
        if let rtt = summary.handshakeRTT { parts.append("handshake RTT \(milliseconds(rtt))") }
        if summary.synRetransmits > 0 { parts.append("\(summary.synRetransmits) SYN retransmission\(summary.synRetransmits == 1 ? "" : "s")") }
        parts.append("\(summary.bytesToServer) B to server, \(summary.bytesToClient) B to client")
        if let trouble = analysisSummary(summary) { parts.append(trouble) }
        switch summary.closedBy {
        case .client, .server: parts.append("closed by the \(summary.closedBy.rawValue)")
        case .both: parts.append("closed by both at once")
        case .reset: parts.append("reset")
        case .open: break
        }
        let timer = summary.timeWaitSeconds.map { ", \(Int($0.rounded())) s" } ?? ""
        switch summary.timeWait {
        case .client, .server: parts.append("\(summary.timeWait.rawValue) in TIME_WAIT\(timer)")
        case .both: parts.append("both in TIME_WAIT")
        case .none: break
        }
        parts.append("\(summary.packets) packet\(summary.packets == 1 ? "" : "s") in \(seconds(summary.duration))")
        parts.append("\(summary.connState.rawValue): \(summary.connState.meaning), history \(summary.history)")
        if !summary.clientStates.isEmpty { parts.append("client " + summary.clientStates.joined(separator: " → ")) }
        if !summary.serverStates.isEmpty { parts.append("server " + summary.serverStates.joined(separator: " → ")) }
        return "conn \(summary.connection) \(summary.client) → \(summary.server): \(outcomeText(summary.outcome)); "
            + parts.joined(separator: ", ")
    }

    /// `12 retransmissions (17376 B), 31 dup ACKs, zero window 3.012 s, RTO back-off 3`: what
    /// the TCP analysis counted, nil for a connection without any of it.
    public static func analysisSummary(_ summary: ConnectionSummary) -> String? {
        var parts: [String] = []
        let segments = summary.retransmittedSegments
        if segments > 0 { parts.append("\(segments) retransmission\(segments == 1 ? "" : "s") (\(summary.retransmittedBytes) B)") }
        if summary.duplicateAcks > 0 { parts.append("\(summary.duplicateAcks) dup ACK\(summary.duplicateAcks == 1 ? "" : "s")") }
        if summary.zeroWindowSeconds > 0 { parts.append("zero window \(seconds(summary.zeroWindowSeconds))") }
        if summary.highestBackoff > 1 { parts.append("RTO back-off \(summary.highestBackoff) (one segment timed out \(summary.highestBackoff) times in a row)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// The summary for `--brief`: the outcome, the bytes each way, who closed, the packets.
    /// Byte counts are exact; a line that would pass the projector's 80 columns (a long bulk
    /// transfer) gives them in kB and MB, with the brief lines' `c→s` and `s→c`, instead.
    public static func briefSummary(_ summary: ConnectionSummary) -> String {
        let exact = briefSummary(summary, compact: false)
        return exact.count + 4 <= 80 ? exact : briefSummary(summary, compact: true)   // 4: the "  = " before it
    }

    static func briefSummary(_ summary: ConnectionSummary, compact: Bool) -> String {
        func size(_ bytes: UInt64) -> String {
            guard compact && bytes >= 10_000 else { return "\(bytes) B" }
            return bytes >= 1_000_000 ? fixed(Double(bytes) / 1e6, 1) + " MB" : fixed(Double(bytes) / 1e3, 1) + " kB"
        }
        var parts = compact ? ["\(size(summary.bytesToServer)) c→s, \(size(summary.bytesToClient)) s→c"]
                            : ["\(summary.bytesToServer) B to server, \(summary.bytesToClient) B to client"]
        switch summary.closedBy {
        case .client, .server: parts.append("\(summary.closedBy.rawValue) closed first")
        case .both: parts.append("both closed at once")
        case .reset, .open: break
        }
        parts.append("\(summary.packets) packet\(summary.packets == 1 ? "" : "s")")
        return "#\(summary.connection) \(outcomeText(summary.outcome)): " + parts.joined(separator: ", ")
    }

    static func outcomeText(_ outcome: Outcome) -> String {
        switch outcome {
        case .closed: return "closed"
        case .refused: return "refused"
        case .reset: return "reset"
        case .noAnswer: return "no answer"
        case .halfClosed: return "half-closed when the capture ended"
        case .closing: return "closing when the capture ended"
        case .open: return "still open when the capture ended"
        case .evicted: return "evicted from the table (idle; --max-connections)"
        }
    }

    /// `, 1.017 s after the last`: the back-off between two copies, when both were captured.
    static func gap(_ tracked: TrackedPacket) -> String {
        tracked.retransmitGap.map { ", \(seconds($0)) after the last" } ?? ""
    }

    static func milliseconds(_ seconds: Double) -> String {
        fixed(seconds * 1000, 3) + " ms"
    }

    static func seconds(_ value: Double) -> String {
        value < 1 ? milliseconds(value) : fixed(value, 3) + " s"
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        let scale = [1.0, 10, 100, 1000][decimals]
        // Times come from the capture file: a hostile one can make any difference, so no Int(_:)
        // that would trap on a value out of range.
        guard let whole = Int(exactly: (value * scale).rounded()) else { return "\(value)" }
        let integer = whole / Int(scale), fraction = abs(whole % Int(scale))
        let digits = String(fraction)
        return "\(whole < 0 && integer == 0 ? "-" : "")\(integer)." + String(repeating: "0", count: decimals - digits.count) + digits
    }
}
