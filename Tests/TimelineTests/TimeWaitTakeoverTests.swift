import Testing
import Timeline

/// The timewait takeover shown as one step: the tracepoint's `FIN_WAIT2 → CLOSE` is the step,
/// sock_diag's TIME_WAIT after it is the same step again, a reset socket's CLOSE is no takeover.
@Suite struct TimeWaitTakeoverTests {
    /// How each event is shown, in order: `socket from to source`, or `socket reset-sent`.
    static func shown(_ events: [String]) -> [TimeWaitTakeover.Shown] {
        var takeover = TimeWaitTakeover()
        return events.map { line in
            let words = line.split(separator: " ").map(String.init)
            if words.count == 2 { return takeover.show(type: words[1], local: words[0], remote: "127.0.0.1:6") }
            return takeover.show(type: "state", local: words[0], remote: "127.0.0.1:6", from: words[1], to: words[2], source: words[3])
        }
    }

    @Test func theFullSocketsCloseIsTheStepAndSockDiagsTimeWaitIsHidden() {
        #expect(Self.shown([
            "127.0.0.1:5 FIN_WAIT2 CLOSE tracepoint",
            "127.0.0.1:5 FIN_WAIT2 TIME_WAIT sock_diag",
            "127.0.0.1:7 FIN_WAIT2 TIME_WAIT sock_diag",   // no takeover seen (the capture began late): it stays
            "127.0.0.1:8 CLOSING CLOSE tracepoint",
            "127.0.0.1:9 LAST_ACK CLOSE tracepoint",
        ]) == [.takeover, .hidden, .asReported, .takeover, .asReported])
    }

    @Test func aSocketThatSentOrReceivedAResetClosesWithoutATakeover() {
        #expect(Self.shown([
            "127.0.0.1:5 reset-received",
            "127.0.0.1:5 FIN_WAIT2 CLOSE tracepoint",
            "127.0.0.1:7 reset-sent",
            "127.0.0.1:7 FIN_WAIT2 CLOSE tracepoint",
        ]) == [.asReported, .asReported, .asReported, .asReported])
    }

    @Test func theExplanationIsSaidOncePerRun() {
        var takeover = TimeWaitTakeover()
        let answers = [takeover.explainOnce(.asReported), takeover.explainOnce(.takeover), takeover.explainOnce(.takeover)]
        #expect(answers == [false, true, false])
    }
}
