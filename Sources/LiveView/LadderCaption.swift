/// The short line under each arrow: what the system calls on each side are doing while the
/// segment crosses. The same words as the page's captions and the terminal ladder's.
enum LadderCaption {
    /// What a caption needs to remember of the segments before it.
    struct Progress {
        var synTime: Double?
        var lastSynTime: Double?
        var lastSynAckTime: Double?
        var sawSynAck = false
        /// The relative sequence number just after each side's FIN (what its ACK acknowledges).
        var clientFinEnd: UInt32?
        var serverFinEnd: UInt32?
    }

    /// The step's caption, then the analysis's other findings in brackets (`[zero-window]`), as
    /// the page writes them.
    static func caption(for arrow: LadderConnection.Arrow, progress: inout Progress) -> String {
        let words = stepCaption(for: arrow, progress: &progress)
        let segment = arrow.segment
        // The steps that already say what the analysis found ("SYN again" is its retransmission).
        let sayItAlready = ["retransmit", "dup-ack", "probe", "syn-retransmit", "syn-ack-retransmit"]
        guard !segment.analysis.isEmpty, !sayItAlready.contains(segment.step) else { return words }
        return words + " [" + segment.analysis.joined(separator: ", ") + "]"
    }

    static func stepCaption(for arrow: LadderConnection.Arrow, progress: inout Progress) -> String {
        let segment = arrow.segment
        let sender = arrow.fromClient ? "client" : "server"
        let receiver = arrow.fromClient ? "server" : "client"
        let receiverFinEnd = arrow.fromClient ? progress.serverFinEnd : progress.clientFinEnd
        defer {
            if segment.flags.contains("FIN") {
                let end = arrow.sequence &+ UInt32(truncatingIfNeeded: segment.length) &+ 1
                if arrow.fromClient { progress.clientFinEnd = end } else { progress.serverFinEnd = end }
            }
        }
        switch segment.step {
        case "handshake-syn":
            progress.synTime = segment.time
            progress.lastSynTime = segment.time
            return "1/3 connect() sends SYN, blocks"
        case "handshake-syn-ack":
            progress.sawSynAck = true
            progress.lastSynAckTime = segment.time
            return "2/3 server kernel answers (not accept())"
        case "handshake-ack":
            return "3/3 connect() returns; waits for accept()"
        case "syn-retransmit":
            defer { progress.lastSynTime = segment.time }
            return "SYN again" + after(progress.lastSynTime, segment.time)
        case "syn-ack-retransmit":
            defer { progress.lastSynAckTime = segment.time }
            return "SYN-ACK again" + after(progress.lastSynAckTime, segment.time)
        case "data":
            return receiverFinEnd != nil ? "\(sender) send() after peer's FIN (half-close)" : "\(sender) send() → \(receiver) recv()"
        case "ack":
            if let acknowledgement = arrow.acknowledgement, acknowledgement == receiverFinEnd {
                return "\(sender) kernel ACKs the FIN (CLOSE_WAIT)"
            }
            return "\(sender) kernel ACKs"
        case "fin-active": return "\(sender) close(): active close"
        case "fin-passive": return "\(sender) recv() = 0, close()"
        case "teardown-ack": return "last ACK: \(sender) in TIME_WAIT"
        case "retransmit":
            let kind = segment.analysis.first { $0.hasSuffix("retransmission") } ?? "retransmission"
            let since = segment.sinceOriginalMilliseconds.map { " after \(LadderNumbers.duration($0 / 1000))" } ?? ""
            return kind.replacing("-", with: " ", maxReplacements: 1) + since
        case "dup-ack":
            return "dup ACK #\(segment.duplicateAck.map(String.init) ?? "?"): waits for \(arrow.acknowledgement.map(String.init) ?? "null")"
        case "probe":
            return segment.analysis.contains("zero-window-probe") ? "zero-window probe: room yet?" : "keep-alive: still there?"
        case "rst": return reset(arrow, progress: progress, sender: sender)
        case "midstream": return "mid-stream (opened before the capture)"
        default: return segment.step
        }
    }

    static func reset(_ arrow: LadderConnection.Arrow, progress: Progress, sender: String) -> String {
        if !progress.sawSynAck && !arrow.fromClient { return "RST: refused, nothing listening" }
        if (arrow.fromClient ? progress.clientFinEnd : progress.serverFinEnd) != nil { return "RST: data after close()" }
        return "RST: abortive close by the \(sender)"
    }

    /// ` after 1.017 s`, or nothing when the previous copy was not seen.
    static func after(_ previous: Double?, _ now: Double) -> String {
        previous.map { " after \(LadderNumbers.duration(now - $0))" } ?? ""
    }
}
