import Foundation
import Testing
import Timeline
@testable import HandshakeKit

/// The findings' sentences are the wording table's (StepWording), the same the projector page
/// reads; AnalysisExplanation only picks them and fills in their `{slots}`. Every one of them,
/// filled for a segment that has it, must leave no slot unfilled: a slot the code does not fill
/// would reach a class as `{bytes}`.
@Suite("Finding sentences from the wording table")
struct FindingSentenceTests {
    /// Every key of a sentence about the analysis: the findings and their variants, SACK, the
    /// kernel's word. (`sack/dsack` is a piece of `{sack}`, checked through the SACK sentences.)
    static let sentenceKeys = Set(StepWording.entries.map(\.key).filter {
        $0.hasPrefix("finding/") || $0 == "sack" || $0.hasPrefix("kernel/")
    })

    /// What captures/ has no segment for: each comes from a hand-built conversation below (or,
    /// for the kernel's word, a real retransmission marked as --kernel would mark it).
    static let notInCaptures: Set<String> = [
        "finding/retransmission/backoff", "finding/previous-segment-not-captured", "finding/ack-of-unseen-segment",
        "finding/window-update/unscaled", "finding/duplicate-ack", "kernel/retransmit", "kernel/no-retransmit",
    ]

    /// Keeps every packet of a replay.
    final class Keeping: Renderer {
        let output = OutputBuffer(lines: { _ in })
        var packets: [TrackedPacket] = []
        func packet(_ tracked: TrackedPacket) { packets.append(tracked) }
        func connectionEnded(_ summary: ConnectionSummary) {}
        func finish(_ stats: CaptureStats) {}
    }

    /// The sentences of one segment, filled: `key → text`, in order.
    static func filled(_ tracked: TrackedPacket) -> [(key: String, text: String)] {
        let (keys, values) = AnalysisExplanation.sentences(for: tracked)
        return keys.map { ($0, StepWording.fill(StepWording.words($0).sentence, values)) }
    }

    @Test("every finding's sentence, filled for real captures' segments (and hand-built ones for the rest), has no {slot} left")
    func everySentenceFilledCompletely() throws {
        var seen: [String: String] = [:]          // key → its first filled sentence
        var fromCaptures: Set<String> = []
        var unfilled: [String] = []
        func check(_ tracked: TrackedPacket, real: Bool) {
            for (key, text) in Self.filled(tracked) {
                if StepWording.table[key] == nil { unfilled.append("\(key): not in the table") }
                if text.contains("{") || text.contains("}") { unfilled.append("\(key): \(text)") }
                if seen[key] == nil { seen[key] = text }
                if real { fromCaptures.insert(key) }
            }
        }

        for path in BriefOutputTests.captures {
            let renderer = Keeping()
            try replayCapture(path, into: renderer)
            for tracked in renderer.packets {
                check(tracked, real: true)
                // The kernel's word comes only live (--kernel): a real retransmission, as it would mark it.
                if !tracked.findings.isDisjoint(with: TCPAnalysis.anyRetransmission) {
                    for said in [true, false] {
                        var marked = tracked
                        marked.kernelRetransmit = said
                        check(marked, real: false)
                    }
                }
                // A window update of a connection whose handshake was not seen: its scale is unknown.
                if tracked.findings.contains(.windowUpdate) {
                    var unscaled = tracked
                    unscaled.window = nil
                    check(unscaled, real: false)
                }
            }
        }

        // The rest, from TCPAnalysisTests' conversations.
        var timeouts = TCPAnalysisTests.Script()
        timeouts.data(1, 100)
        timeouts.data(1, 100, after: 0.210)
        timeouts.data(1, 100, after: 0.420)
        let timedOut = try timeouts.run()
        check(timedOut[5], real: false)
        #expect(AnalysisExplanation.text(for: timedOut[5])
                == "retransmission of bytes 1–100 after 630.000 ms (RTO: no ACK came in time, timeout #2: each wait doubles)")

        var gap = TCPAnalysisTests.Script(rtt: 0.050)
        gap.data(1, 100)
        gap.data(201, 100)
        gap.ack(301)
        let gapped = try gap.run()
        check(gapped[4], real: false)
        check(gapped[5], real: false)
        #expect(AnalysisExplanation.text(for: gapped[4])
                == "previous segment not captured: bytes 101–200 were not seen (lost before the capture point, or not captured)")

        var unseen = TCPAnalysisTests.Script()
        unseen.data(1, 100)
        unseen.ack(301)
        check(try unseen.run()[4], real: false)

        var duplicates = TCPAnalysisTests.Script()
        duplicates.data(1, 100)
        duplicates.ack(101)
        duplicates.ack(101)
        let duplicated = try duplicates.run()
        check(duplicated[5], real: false)
        #expect(AnalysisExplanation.text(for: duplicated[5]) == "duplicate ACK #1: the server still waits for byte 101")

        #expect(unfilled.isEmpty, "\(unfilled.prefix(5))")
        #expect(Set(seen.keys) == Self.sentenceKeys, "never filled: \(Self.sentenceKeys.subtracting(seen.keys).sorted())")
        #expect(Self.sentenceKeys.subtracting(fromCaptures).isSubset(of: Self.notInCaptures),
                "no real capture for \(Self.sentenceKeys.subtracting(fromCaptures).subtracting(Self.notInCaptures).sorted())")
        // A DSACK block is written in the table's words too (lossy.pcap has some).
        #expect(seen.values.contains { $0.contains("(DSACK: ") && $0.contains(" arrived twice)") })
    }

    @Test("the findings' words are only the table's: each variant is a sentence, never a caption, and the caption order skips it")
    func variantsAreSentencesOnly() {
        for (key, words) in StepWording.entries where key.hasPrefix("finding/") && key.dropFirst("finding/".count).contains("/") {
            #expect(words.caption.isEmpty && words.brief.isEmpty && !words.sentence.isEmpty, "\(key)")
            #expect(!StepWording.findingOrder.contains(String(key.dropFirst("finding/".count))), "\(key)")
        }
        // A step and the finding it is tell the same.
        #expect(StepWording.words("dup-ack").sentence == StepWording.words("finding/duplicate-ack").sentence)
        #expect(StepWording.words("probe/zero-window").sentence == StepWording.words("finding/zero-window-probe").sentence)
        #expect(StepWording.words("probe/keep-alive").sentence == StepWording.words("finding/keep-alive").sentence)
    }
}
