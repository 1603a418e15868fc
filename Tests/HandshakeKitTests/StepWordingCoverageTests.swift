import HandshakeKit
import Testing
import Timeline

/// Every step a packet can have has its words in the one table (StepWording), keyed by the
/// step's JSON name, and `--brief` takes its short name from there.
@Suite struct StepWordingCoverageTests {
    @Test func everyStepHasItsWords() {
        for step in Step.allCases {
            let keys = StepWording.entries.map(\.key).filter { $0 == step.rawValue || $0.hasPrefix(step.rawValue + "/") }
            #expect(!keys.isEmpty, "no wording for \(step.rawValue)")
            #expect(step.shortName == StepWording.words(step.rawValue).brief)
            #expect(step.shortName != step.rawValue || step == .data || step == .ack || step == .probe, "\(step)")
        }
        #expect(Set(StepWording.entries.map { String($0.key.prefix { $0 != "/" }) })
                == Set(Step.allCases.map(\.rawValue) + ["finding", "sack", "kernel"]),
                "a key for a step that does not exist")
        // The findings' captions: one for each name the analysis gives, in its table.
        #expect(Set(StepWording.findingOrder) == Set(TCPAnalysis.names.map { "\($0.1)" }))
    }
}
