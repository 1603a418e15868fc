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

    /// Writes `text(for:)` into the output buffer, the same bytes, without building a String for
    /// the segments of every connection (handshake, data, ACK, FIN, last ACK). The rarer ones
    /// (resets, retransmitted SYNs, the analysis's findings) go through `text(for:)`.
    static func write(_ tracked: TrackedPacket, into out: OutputBuffer) {
        if !tracked.findings.isEmpty || tracked.packet.tcp.options.sack.count > 0 {
            return out.string(text(for: tracked))
        }
        let toServer = tracked.direction == .toServer
        let sender: StaticString = toServer ? "client" : "server"
        let receiver: StaticString = toServer ? "server" : "client"
        switch tracked.step {
        case .handshakeSyn:
            out.ascii("handshake 1/3: the client's connect() sends SYN and blocks")
        case .handshakeSynAck:
            out.ascii("handshake 2/3: the server's kernel answers from the listen queue (accept() is not involved)")
        case .handshakeAck:
            out.ascii("handshake 3/3: connect() returns; the connection waits in the accept queue until accept() takes it")
            if let rtt = tracked.handshakeRTT {
                guard rtt >= 0, rtt < 1e6 else { return out.string(" (handshake RTT \(milliseconds(rtt)))") }
                out.ascii(" (handshake RTT ")
                out.fixed(rtt * 1000, decimals: 3)
                out.ascii(" ms)")
            }
        case .data:
            let bytes = tracked.packet.tcp.payloadLength
            out.ascii(sender)
            out.ascii(" sends ")
            out.decimal(bytes)
            out.ascii(bytes == 1 ? " byte (its send(); the " : " bytes (its send(); the ")
            out.ascii(receiver)
            out.ascii("'s recv() returns them)")
            if tracked.afterPeerFin {
                out.ascii("; half-close: the ")
                out.ascii(sender)
                out.ascii(" still sends after the ")
                out.ascii(receiver)
                out.ascii("'s FIN")
            }
        case .ack where !tracked.acknowledgesFin:
            out.ascii(sender)
            out.ascii("'s kernel acknowledges every byte before ")
            out.decimal(tracked.relativeAcknowledgement)
        case .finActive:
            out.ascii(sender)
            out.ascii(" called ")
            out.string(closingCall(tracked))
            out.ascii(": active close, its FIN means no more data (")
            out.ascii(sender)
            out.ascii(" in FIN_WAIT_1); the ")
            out.ascii(receiver)
            out.ascii("'s recv() will return 0")
        case .finPassive where !tracked.simultaneousClose:
            out.ascii(sender)
            out.ascii(" closes too (its recv() returned 0, then ")
            if let call = tracked.call { out.string(call) } else { out.ascii("close()") }
            out.ascii("): passive close (")
            out.ascii(sender)
            out.ascii(" in LAST_ACK)")
        case .teardownAck:
            switch tracked.timeWait {
            case .both: out.ascii("last ACK: connection closed; both sides wait in TIME_WAIT (simultaneous close)")
            case .client: out.ascii("last ACK: connection closed; the client waits in TIME_WAIT (60 s on Linux), the server is CLOSED")
            case .server: out.ascii("last ACK: connection closed; the server waits in TIME_WAIT (60 s on Linux), the client is CLOSED")
            case .none: out.ascii("last ACK: connection closed")
            }
        default:
            out.string(text(for: tracked))
        }
    }

    /// The step's own sentence, before the analysis's findings.
    static func stepText(for tracked: TrackedPacket) -> String {
        let sender = tracked.direction == .toServer ? "client" : "server"
        let receiver = tracked.direction == .toServer ? "server" : "client"
        switch tracked.step {
        case .handshakeSyn:
            return "handshake 1/3: the client's connect() sends SYN and blocks"
        case .handshakeSynAck:
            return "handshake 2/3: the server's kernel answers from the listen queue (accept() is not involved)"
        case .handshakeAck:
            var text = "handshake 3/3: connect() returns; the connection waits in the accept queue until accept() takes it"
            if let rtt = tracked.handshakeRTT { text += " (handshake RTT \(milliseconds(rtt)))" }
            return text
        case .synRetransmit:
            // Linux 6.x waits a fixed ~1 s for the first retries (net.ipv4.tcp_syn_linear_timeouts = 4),
            // then doubles the wait; older kernels double from the start (1, 2, 4, 8 s).
            return "SYN retransmitted (copy \(tracked.retransmitCount)\(gap(tracked))): "
                + "no answer yet; a full listen backlog drops SYNs, or nothing is there"
        case .synAckRetransmit:
            return "SYN-ACK retransmitted (copy \(tracked.retransmitCount)\(gap(tracked))): "
                + "the client's ACK did not arrive, or a full accept queue dropped it"
        case .retransmit, .dupAck, .probe:
            return AnalysisExplanation.text(for: tracked)
        case .data:
            let bytes = tracked.packet.tcp.payloadLength
            var text = "\(sender) sends \(bytes) byte\(bytes == 1 ? "" : "s") (its send(); the \(receiver)'s recv() returns them)"
            if tracked.afterPeerFin { text += "; half-close: the \(sender) still sends after the \(receiver)'s FIN" }
            return text
        case .ack:
            if tracked.acknowledgesFin && tracked.simultaneousClose {
                return "\(sender)'s kernel acknowledges the \(receiver)'s FIN; the FINs crossed, so the \(receiver) "
                    + "goes from CLOSING to TIME_WAIT"
            }
            if tracked.acknowledgesFin {
                return "\(sender)'s kernel acknowledges the \(receiver)'s FIN: the \(receiver) waits in FIN_WAIT_2, "
                    + "the \(sender) is in CLOSE_WAIT until its program calls close()"
            }
            return "\(sender)'s kernel acknowledges every byte before \(tracked.relativeAcknowledgement)"
        case .finActive:
            return "\(sender) called \(closingCall(tracked)): active close, its FIN means no more data "
                + "(\(sender) in FIN_WAIT_1); the \(receiver)'s recv() will return 0"
        case .finPassive:
            if tracked.simultaneousClose {
                return "\(sender) closed at the same moment: the two FINs crossed (simultaneous close, both in CLOSING)"
            }
            return "\(sender) closes too (its recv() returned 0, then \(tracked.call ?? "close()")): passive close (\(sender) in LAST_ACK)"
        case .teardownAck:
            switch tracked.timeWait {
            case .both: return "last ACK: connection closed; both sides wait in TIME_WAIT (simultaneous close)"
            case .client: return "last ACK: connection closed; the client waits in TIME_WAIT (60 s on Linux), the server is CLOSED"
            case .server: return "last ACK: connection closed; the server waits in TIME_WAIT (60 s on Linux), the client is CLOSED"
            case .none: return "last ACK: connection closed"
            }
        case .rst:
            if tracked.resetMeaning == .abortiveClose, let cause = tracked.resetCause {
                return causeText(cause, sender: sender, receiver: receiver)
            }
            return resetText(tracked.resetMeaning, sender: sender, receiver: receiver,
                             port: tracked.server.port)
        case .midstream:
            if tracked.packet.tcp.flags.contains(.fin) {
                return "mid-stream: this connection was open before the capture started; the \(sender) called "
                    + "\(closingCall(tracked)): active close (\(sender) in FIN_WAIT_1)"
            }
            return "mid-stream: this connection was open before the capture started"
        }
    }

    /// The call that sent a FIN: the one the recorded events name, or both candidates.
    static func closingCall(_ tracked: TrackedPacket) -> String {
        tracked.call ?? "close() or shutdown(SHUT_WR)"
    }

    /// A reset whose cause the recorded system calls show.
    public static func causeText(_ cause: ResetCause, sender: String, receiver: String) -> String {
        switch cause {
        case .listenerClosed:
            return "reset: the \(sender) closed its listening socket while this connection was still in the accept "
                + "queue (accept() never took it); the \(receiver)'s next recv()/send() fails with ECONNRESET"
        case .lingerZero:
            return "reset: abortive close by the \(sender), close() with SO_LINGER 0; "
                + "the \(receiver)'s next recv()/send() fails with ECONNRESET"
        }
    }

    /// What a reset usually means, in words.
    public static func resetText(_ meaning: ResetMeaning?, sender: String, receiver: String, port: UInt16) -> String {
        switch meaning {
        case .refused:
            return "connection refused: nothing listens on port \(port); connect() fails with ECONNREFUSED"
        case .abortedHandshake:
            return "reset: the client aborted the handshake"
        case .abortiveClose:
            // Only a server has a listener whose queue can hold the connection.
            let listener = sender == "server" ? ", or a listener closed before accept() took it" : ""
            // Packets do not say why: a byte is acknowledged whether or not the program read it.
            // The cause is claimed only from evidence (the recorded calls: causeText; the
            // kernel's reason: its own [kernel] line); otherwise the usual causes are listed.
            return "reset: the \(sender) aborted the connection with RST (possibly close() with SO_LINGER 0, "
                + "or with unread data\(listener)); the \(receiver)'s next recv()/send() fails with ECONNRESET"
        case .dataAfterClose:
            return "reset: data arrived after the \(sender) called close(); its kernel answers RST"
        case .lateSegment:
            return "reset: a segment arrived after the connection was closed; the \(sender)'s kernel has no socket for it"
        case .unknownConnection, nil:
            return "reset of a connection not seen before (it began before the capture)"
        }
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
