import Timeline

/// The sentences for the TCP analysis's findings (`TCPAnalysis`), in a teacher's words, for the
/// text lines and the summaries. The words are the wording table's (StepWording's `finding/`
/// entries, also served to the projector page); here only the sentences that apply are picked
/// and their values filled in. Byte ranges are relative sequence numbers, first and last byte
/// included ("bytes 1449–2896"), as a class counts them.
public enum AnalysisExplanation {
    /// Every finding of the segment, most telling first, joined by "; ". Empty when none.
    public static func text(for tracked: TrackedPacket) -> String {
        let (keys, values) = sentences(for: tracked)
        return keys.map { StepWording.fill(StepWording.words($0).sentence, values) }.joined(separator: "; ")
    }

    /// The wording table's keys of the segment's sentences, in order, and the values their
    /// `{slots}` name: one dictionary for all of them, since a segment has one sender, one range
    /// of bytes... The page picks the same keys from a JSON event (index.html, `findingSentences`).
    public static func sentences(for tracked: TrackedPacket) -> (keys: [String], values: [String: String]) {
        let found = tracked.findings
        let sack = sackText(tracked)
        guard !found.isEmpty || sack != nil else { return ([], [:]) }
        let analysis = tracked.analysis
        var values = [
            "sender": tracked.direction == .toServer ? "client" : "server",
            "receiver": tracked.direction == .toServer ? "server" : "client",
            "bytes": bytes(tracked),
            "since": after(analysis.sinceOriginal),
            "ack": String(tracked.relativeAcknowledgement),
        ]
        var keys: [String] = []

        // A segment sent again is one kind of retransmission; a plain one says why it was sent.
        if found.contains(.fastRetransmission) {
            values["dupacks"] = String(analysis.duplicateAcksBefore)
            keys.append("finding/fast-retransmission")
        } else if found.contains(.spuriousRetransmission) {
            keys.append("finding/spurious-retransmission")
        } else if found.contains(.retransmission) {
            if tracked.packet.tcp.payloadLength == 0 {
                // A SYN or FIN sent again: its first copy is not timed, the newest segment before it is.
                values["since"] = after(analysis.sinceOriginal ?? analysis.sinceHighest)
                keys.append("finding/retransmission/empty")
            } else if let since = analysis.sinceOriginal, since < linuxMinimumRTO {
                keys.append("finding/retransmission/sack-recovery")
            } else if analysis.backoff > 1 {
                values["backoff"] = String(analysis.backoff)
                keys.append("finding/retransmission/backoff")
            } else {
                keys.append("finding/retransmission")
            }
        }
        // The kernel's own word, with --kernel (tcp:tcp_retransmit_skb).
        if tracked.kernelRetransmit == true {
            keys.append("kernel/retransmit")
        }
        if tracked.kernelRetransmit == false && !found.isDisjoint(with: TCPAnalysis.anyRetransmission) {
            keys.append("kernel/no-retransmit")
        }
        if found.contains(.outOfOrder) {
            keys.append("finding/out-of-order")
        }
        if let sack { values["sack"] = sack }
        if found.contains(.duplicateAck) {
            values["n"] = String(analysis.duplicateAckNumber)
            keys.append(sack == nil ? "finding/duplicate-ack" : "finding/duplicate-ack/sack")
        } else if sack != nil {
            keys.append("sack")
        }
        if found.contains(.previousSegmentNotCaptured), let from = analysis.missingFrom {
            values["missing"] = "\(tracked.relativeToSender(from))–\(tracked.relativeSequence &- 1)"
            keys.append("finding/previous-segment-not-captured")
        }
        // The others have one sentence each.
        if found.contains(.ackOfUnseenSegment) {
            keys.append("finding/ack-of-unseen-segment")
        }
        if found.contains(.zeroWindowProbe) {
            keys.append("finding/zero-window-probe")
        }
        if found.contains(.zeroWindowProbeAck) {
            keys.append("finding/zero-window-probe-ack")
        }
        if found.contains(.zeroWindow) {
            keys.append("finding/zero-window")
        }
        if found.contains(.windowFull) {
            keys.append("finding/window-full")
        }
        if found.contains(.windowUpdate) {
            if let window = tracked.window { values["window"] = String(window) }
            keys.append(tracked.window == nil ? "finding/window-update/unscaled" : "finding/window-update")
        }
        if found.contains(.keepAlive) {
            keys.append("finding/keep-alive")
        }
        if found.contains(.keepAliveAck) {
            keys.append("finding/keep-alive-ack")
        }
        return (keys, values)
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
            ranges.append(index == 0 && duplicate ? StepWording.fill(StepWording.words("sack/dsack").sentence, ["range": range]) : range)
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
