import Timeline

/// The sentences for the TCP analysis's findings (`TCPAnalysis`), in a teacher's words, for the
/// text lines and the summaries; the captions, and the sentences a step shares with a finding
/// (duplicate ACK, probes), are the wording table's (StepWording). Byte ranges are relative sequence
/// numbers, first and last byte included ("bytes 1449–2896"), as a class counts them.
public enum AnalysisExplanation {
    /// Every finding of the segment, most telling first, joined by "; ". Empty when none.
    public static func text(for tracked: TrackedPacket) -> String {
        let found = tracked.findings
        guard !found.isEmpty || tracked.packet.tcp.options.sack.count > 0 else { return "" }
        let analysis = tracked.analysis
        let sender = tracked.direction == .toServer ? "client" : "server"
        let receiver = tracked.direction == .toServer ? "server" : "client"
        let length = tracked.packet.tcp.payloadLength
        var parts: [String] = []

        if found.contains(.fastRetransmission) {
            parts.append("fast retransmission of \(bytes(tracked)) after \(analysis.duplicateAcksBefore) duplicate ACKs "
                         + "(RFC 5681: the \(sender) does not wait for its timer)")
        } else if found.contains(.spuriousRetransmission) {
            parts.append("spurious retransmission of \(bytes(tracked))\(after(analysis.sinceOriginal)): the \(receiver) "
                         + "had already acknowledged them (an ACK was lost or late)")
        } else if found.contains(.retransmission) {
            if length == 0 {
                parts.append("retransmission\(after(analysis.sinceOriginal ?? analysis.sinceHighest)): no ACK came in time")
            } else {
                let copy = analysis.backoff > 1 ? ", timeout #\(analysis.backoff): each wait doubles" : ""
                if let since = analysis.sinceOriginal, since < linuxMinimumRTO {
                    parts.append("retransmission of \(bytes(tracked))\(after(since)) (too soon for the retransmission timer, "
                                 + "200 ms at least on Linux: SACK loss recovery sent it again)")
                } else {
                    parts.append("retransmission of \(bytes(tracked))\(after(analysis.sinceOriginal)) (RTO: no ACK came in time\(copy))")
                }
            }
        }
        if tracked.kernelRetransmit == true {
            parts.append("the kernel says: retransmitted (tcp:tcp_retransmit_skb)")
        }
        if tracked.kernelRetransmit == false && !found.isDisjoint(with: TCPAnalysis.anyRetransmission) {
            parts.append("the kernel did not report it as its retransmission")
        }
        if found.contains(.outOfOrder) {
            parts.append("out of order: \(bytes(tracked)) arrive after higher ones, within one round trip "
                         + "(reordered on the way, or resent at once)")
        }
        if found.contains(.duplicateAck) {
            var text = StepWording.fill(StepWording.words("dup-ack").sentence, [
                "n": String(analysis.duplicateAckNumber), "sender": sender, "ack": String(tracked.relativeAcknowledgement),
            ])
            if let held = sackText(tracked) { text += "; SACK says it holds \(held)" }
            parts.append(text)
        } else if let held = sackText(tracked) {
            parts.append("SACK: the \(sender) holds \(held) beyond byte \(tracked.relativeAcknowledgement)")
        }
        if found.contains(.previousSegmentNotCaptured), let from = analysis.missingFrom {
            let first = tracked.relativeToSender(from)
            parts.append("previous segment not captured: bytes \(first)–\(tracked.relativeSequence &- 1) were not seen "
                         + "(lost before the capture point, or not captured)")
        }
        if found.contains(.ackOfUnseenSegment) {
            parts.append("acknowledges bytes the capture did not see")
        }
        if found.contains(.zeroWindowProbe) {
            parts.append(StepWording.words("probe/zero-window").sentence)
        }
        if found.contains(.zeroWindowProbeAck) {
            parts.append("answer to the probe: still no room")
        }
        if found.contains(.zeroWindow) {
            parts.append("zero window: the \(sender)'s receive buffer is full (its program is not calling recv()); "
                         + "the \(receiver) must stop sending")
        }
        if found.contains(.windowFull) {
            parts.append("window full: these bytes fill the \(receiver)'s advertised window; the \(sender) must wait for an ACK")
        }
        if found.contains(.windowUpdate) {
            let window = tracked.window.map { " for \($0) bytes" } ?? ""
            parts.append("window update: the \(sender)'s program read data, there is room\(window) again")
        }
        if found.contains(.keepAlive) {
            parts.append(StepWording.fill(StepWording.words("probe/keep-alive").sentence, ["receiver": receiver]))
        }
        if found.contains(.keepAliveAck) {
            parts.append("answer to the keep-alive: still here")
        }
        return parts.joined(separator: "; ")
    }

    /// Linux's smallest retransmission timeout (TCP_RTO_MIN, 200 ms): a copy sent sooner was not
    /// sent by the timer.
    static let linuxMinimumRTO = 0.2

    /// A few words for the ladder and `--brief`: the most telling finding, in the wording table's
    /// words (StepWording's `finding/` entries, in their order), as the SVG and the page write it.
    public static func shortText(for tracked: TrackedPacket) -> String? {
        let names = tracked.findings.nameList
        guard let name = StepWording.findingOrder.first(where: names.contains) else { return nil }
        let analysis = tracked.analysis
        let since = name == "retransmission" ? analysis.sinceOriginal ?? analysis.sinceHighest : analysis.sinceOriginal
        return StepWording.fill(StepWording.words("finding/" + name).caption, [
            "dupacks": String(analysis.duplicateAcksBefore),
            "since": after(since),
            "timer": (analysis.sinceOriginal ?? linuxMinimumRTO) >= linuxMinimumRTO ? " (RTO)" : "",
            "n": String(analysis.duplicateAckNumber),
            "ack": String(tracked.relativeAcknowledgement),
        ])
    }

    /// `bytes 1449–2896`: the segment's payload as relative byte numbers, both ends included.
    static func bytes(_ tracked: TrackedPacket) -> String {
        let length = tracked.packet.tcp.payloadLength
        if length <= 1 { return "byte \(tracked.relativeSequence)" }
        return "bytes \(tracked.relativeSequence)–\(tracked.relativeSequence &+ UInt32(truncatingIfNeeded: length) &- 1)"
    }

    /// ` after 212.004 ms`, or nothing when the time is unknown.
    static func after(_ seconds: Double?) -> String {
        seconds.map { " after \(StepExplanation.seconds($0))" } ?? ""
    }

    /// `2897–4344` (and `, 5793–7240`...) for the SACK blocks of an ACK, relative, both ends
    /// included; `(DSACK: 1449–2896 arrived twice)` for a duplicate SACK (RFC 2883). Nil without SACK.
    static func sackText(_ tracked: TrackedPacket) -> String? {
        let sack = tracked.packet.tcp.options.sack
        guard sack.count > 0, tracked.packet.tcp.flags.contains(.ack) else { return nil }
        let duplicate = sack.isDuplicate(acknowledgement: tracked.packet.tcp.acknowledgement)
        var ranges: [String] = []
        for index in 0..<sack.count {
            let block = sack[index]
            let range = "\(tracked.relativeToPeer(block.left))–\(tracked.relativeToPeer(block.right) &- 1)"
            ranges.append(index == 0 && duplicate ? "(DSACK: \(range) arrived twice)" : range)
        }
        return ranges.joined(separator: ", ")
    }

    /// `SACK 1449-2897 2897-4345`: the blocks as relative left and right edges, as tcpdump and
    /// Wireshark print them; DSACK marks a duplicate first block.
    public static func sackEdges(_ tracked: TrackedPacket) -> String? {
        let sack = tracked.packet.tcp.options.sack
        guard sack.count > 0, tracked.packet.tcp.flags.contains(.ack) else { return nil }
        var text = sack.isDuplicate(acknowledgement: tracked.packet.tcp.acknowledgement) ? "DSACK" : "SACK"
        for index in 0..<sack.count {
            let block = sack[index]
            text += " \(tracked.relativeToPeer(block.left))-\(tracked.relativeToPeer(block.right))"
        }
        return text
    }
}
