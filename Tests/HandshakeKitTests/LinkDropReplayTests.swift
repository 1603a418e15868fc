import Foundation
import Testing
import TestSupport

/// captures/lost-syn-ack.pcap (lesson 11): lab-link dropped the first SYN-ACK, and its
/// `link-drop` event sits in the sidecar. Every view shows it where it happened.
@Suite struct LinkDropReplayTests {
    static let lost = "✗ s→c lost (rule) 10.77.0.2:46521 → 10.77.0.1:50826 [SYN,ACK] seq 1379973844 len 0"

    private func replay(_ arguments: [String]) throws -> [String] {
        let run = try runCommand("handshake-watch", ["-r", "captures/lost-syn-ack.pcap"] + arguments,
                                 currentDirectory: packageRoot.path)
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout
    }

    @Test func theTextShowsTheLossBetweenTheTwoSynAcks() throws {
        let lines = try replay([])
        let first = try #require(lines.firstIndex { $0.contains("[SYN,ACK] seq 0 ack 1") && $0.contains("handshake 2/3") })
        let drop = try #require(lines.firstIndex { $0.hasSuffix("[link] " + Self.lost) })
        let again = try #require(lines.firstIndex { $0.contains("[SYN,ACK] seq 0 ack 1") && $0.contains("SYN-ACK retransmitted") })
        #expect(first < drop && drop < again)
        #expect(try replay(["--no-events"]).allSatisfy { !$0.contains("✗") })
    }

    @Test func theLadderDrawsAnArrowThatStopsInACross() throws {
        let lines = try replay(["--format", "ladder"])
        let drop = try #require(lines.first { $0.contains("✗") })
        #expect(drop.contains("|<-- SYN,ACK seq 0 ---") && drop.hasSuffix("| lost (rule)"))
        let svg = try replay(["--format", "svg"]).joined(separator: "\n")
        // Captured on the server's side, the lost SYN-ACK is an arrow of the capture: that arrow stops in ✗.
        #expect(svg.contains("<title>SYN,ACK seq 0 ack 1 lost (rule): the link dropped it: it never arrives</title>"))
        #expect(svg.components(separatedBy: ">✗</text>").count == 2)
        #expect(!svg.contains("<title>SYN,ACK seq 0 lost (rule)"))   // not drawn twice
    }

    @Test func jsonCarriesTheLinkDropObject() throws {
        let lines = try replay(["--format", "json"])
        let drop = try #require(lines.first { $0.contains("\"type\":\"link-drop\"") })
        #expect(drop.contains("\"dir\":\"s→c\",\"reason\":\"rule\",\"src\":\"10.77.0.2\",\"sport\":46521"))
    }
}
