import Foundation
import Testing
import Timeline
import TestSupport

/// The one table of step wording: its templates fill in, and the copy the browser tests' fake
/// server serves is the table itself.
@Suite struct StepWordingTests {
    @Test func templatesFillInAndVariantsFallBackToTheirStep() {
        let data = StepWording.words("data")
        #expect(StepWording.fill(data.caption, ["sender": "client", "receiver": "server"]) == "client send() → server recv()")
        #expect(StepWording.parts("a {b} c") == [.text("a "), .slot("b"), .text(" c")])
        #expect(StepWording.fill("{unknown} stays", [:]) == "{unknown} stays")
        #expect(StepWording.words("ack/nothing-like-it") == StepWording.words("ack"))
        #expect(StepWording.words("rst").brief == "reset", "a step without its own entry takes its first variant's")
        #expect(StepWording.words("no-such-step").caption == "no-such-step")
    }

    /// `UPDATE_GOLDEN=1 swift test --filter StepWordingTests` rewrites Tests/Browser/words.json.
    @Test func theFakeServersCopyIsTheTable() throws {
        let copy = packageRoot.appendingPathComponent("Tests/Browser/words.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try StepWording.json.write(to: copy, atomically: true, encoding: .utf8)
        }
        let served = try String(contentsOf: copy, encoding: .utf8)
        #expect(served == StepWording.json, "Tests/Browser/words.json differs from StepWording.json (UPDATE_GOLDEN=1 rewrites it)")
        let object = try JSONSerialization.jsonObject(with: Data(served.utf8)) as? [String: [String: String]]
        #expect(object?.count == StepWording.entries.count)
    }
}
