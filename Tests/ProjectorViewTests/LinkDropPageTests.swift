import Foundation
import Testing
import TestSupport

/// The projector page draws a packet lab-link dropped (captures/lost-syn-ack, lesson 11, captured
/// on the server's side, so the lost SYN-ACK is in the capture): its arrow stops halfway, in ✗.
@Suite("projector page: a lost packet") struct LinkDropPageTests {
    @Test func theLostSynAckIsDrawnEndingInACross() throws {
        try BrowserTests.requireBrowser()
        let server = try BrowserTests.fakeServer(["--pcap", "captures/lost-syn-ack.pcap", "--end"])
        defer { server.stop() }
        let lost = BrowserTests.artifacts.appendingPathComponent("lost-syn-ack.lost.txt")
        try BrowserTests.check(server, artifact: "lost-syn-ack", ["--visit-all", "--lost", lost.path, "--ended"])
        let titles = try String(contentsOf: lost, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(titles == ["SYN,ACK seq 0 ack 1 lost (rule): The link (lab-link) dropped this packet (rule): it never arrives."])
    }
}
