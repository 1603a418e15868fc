import Timeline

/// The short line under each arrow: what the system calls on each side are doing while the
/// segment crosses. The words are the wording table's (StepWording), as the page's captions and
/// the terminal ladder's are.
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
        /// Each side's FIN acknowledged by the other.
        var clientFinAcked = false
        var serverFinAcked = false
        /// The second FIN did not acknowledge the first: a simultaneous close, both end in TIME_WAIT.
        var finsCrossed = false
    }

    /// The step's caption; with the analysis's most telling finding, as the terminal ladder
    /// words it: a data segment or an ACK gets it after the step, a retransmission, a duplicate
    /// ACK or a probe is the finding alone.
    static func caption(for arrow: LadderConnection.Arrow, progress: inout Progress) -> String {
        let words = stepCaption(for: arrow, progress: &progress)
        guard let finding = findingCaption(arrow) else { return words }
        let sender = arrow.fromClient ? "client" : "server"
        switch arrow.segment.step {
        case "data": return StepWording.fill(StepWording.words("data/finding").caption, ["sender": sender, "finding": finding])
        case "ack": return StepWording.fill(StepWording.words("ack/finding").caption, ["sender": sender, "finding": finding])
        case "retransmit", "dup-ack", "probe": return finding
        default: return words
        }
    }

    /// The first of the segment's findings in the table's order, in its words; nil without one.
    static func findingCaption(_ arrow: LadderConnection.Arrow) -> String? {
        let segment = arrow.segment
        guard let name = StepWording.findingOrder.first(where: segment.analysis.contains) else { return nil }
        let since = segment.sinceOriginalMilliseconds
        return StepWording.fill(StepWording.words("finding/" + name).caption, [
            "dupacks": segment.duplicateAcksBefore.map(String.init) ?? "?",
            "since": since.map { " after \(LadderNumbers.duration($0 / 1000))" } ?? "",
            "timer": (since ?? 200) >= 200 ? " (RTO)" : "",   // Linux's smallest retransmission timeout, 200 ms
            "n": segment.duplicateAck.map(String.init) ?? "?",
            "ack": arrow.acknowledgement.map(String.init) ?? "null",
        ])
    }

    /// The wording table's caption (StepWording), the variant chosen from the segments so far.
    static func stepCaption(for arrow: LadderConnection.Arrow, progress: inout Progress) -> String {
        let segment = arrow.segment
        let sender = arrow.fromClient ? "client" : "server"
        let receiver = arrow.fromClient ? "server" : "client"
        let receiverFinEnd = arrow.fromClient ? progress.serverFinEnd : progress.clientFinEnd
        let acknowledgesFin = arrow.acknowledgement != nil && arrow.acknowledgement == receiverFinEnd
        if acknowledgesFin { if arrow.fromClient { progress.serverFinAcked = true } else { progress.clientFinAcked = true } }
        defer {
            if segment.flags.contains("FIN") {
                let end = arrow.sequence &+ UInt32(truncatingIfNeeded: segment.length) &+ 1
                if arrow.fromClient { progress.clientFinEnd = end } else { progress.serverFinEnd = end }
            }
        }
        // The packets alone do not say which call sent a FIN.
        var values = ["sender": sender, "receiver": receiver, "call": "close() or shutdown(SHUT_WR)",
                      "closer": sender, "other": receiver, "ack": arrow.acknowledgement.map(String.init) ?? "null"]
        var key = segment.step
        switch segment.step {
        case "handshake-syn":
            progress.synTime = segment.time
            progress.lastSynTime = segment.time
        case "handshake-syn-ack":
            progress.sawSynAck = true
            progress.lastSynAckTime = segment.time
        case "syn-retransmit":
            values["after"] = after(progress.lastSynTime, segment.time)
            progress.lastSynTime = segment.time
        case "syn-ack-retransmit":
            values["after"] = after(progress.lastSynAckTime, segment.time)
            progress.lastSynAckTime = segment.time
        case "data":
            if receiverFinEnd != nil { key = "data/half-close" }
        case "ack":
            if acknowledgesFin { key = progress.finsCrossed ? "ack/fins-crossed" : "ack/fin" }
        case "fin-passive":
            values["call"] = "close()"   // after recv() returned 0
            // The other side's FIN not acknowledged yet, even by this one: the FINs crossed.
            if receiverFinEnd != nil && !(arrow.fromClient ? progress.serverFinAcked : progress.clientFinAcked) {
                progress.finsCrossed = true
            }
            if progress.finsCrossed { key = "fin-passive/fins-crossed" }
        case "teardown-ack":
            if progress.finsCrossed { key = "teardown-ack/both" }
        case "retransmit":
            let kind = segment.analysis.first { $0.hasSuffix("retransmission") } ?? "retransmission"
            values["kind"] = kind.replacing("-", with: " ", maxReplacements: 1)
            values["since"] = segment.sinceOriginalMilliseconds.map { " after \(LadderNumbers.duration($0 / 1000))" } ?? ""
        case "dup-ack":
            values["n"] = segment.duplicateAck.map(String.init) ?? "?"
        case "probe":
            key = segment.analysis.contains("zero-window-probe") ? "probe/zero-window" : "probe/keep-alive"
        case "rst":
            key = resetKey(arrow, progress: progress)
            values["maybe"] = arrow.fromClient ? "unread data" : "listener closed"
        case "midstream":
            if segment.flags.contains("FIN") { key = "midstream/fin" }
        default:
            break
        }
        return StepWording.fill(StepWording.words(key).caption, values)
    }

    static func resetKey(_ arrow: LadderConnection.Arrow, progress: Progress) -> String {
        if !progress.sawSynAck && !arrow.fromClient { return "rst/refused" }
        if (arrow.fromClient ? progress.clientFinEnd : progress.serverFinEnd) != nil { return "rst/data-after-close" }
        return "rst/abortive"
    }

    /// ` after 1.017 s`, or nothing when the previous copy was not seen.
    static func after(_ previous: Double?, _ now: Double) -> String {
        previous.map { " after \(LadderNumbers.duration(now - $0))" } ?? ""
    }
}
