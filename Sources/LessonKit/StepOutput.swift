import Synchronization

/// Keeps each step's output in its step. A background command started in step 2 may print
/// while step 4's prose is on the screen (a server logging a client, a trace line that was
/// still in the pipe); printed there, mid-paragraph, it reads as part of step 4. Such lines are
/// held and shown at the next pause between blocks, under `(late output of step 2)`.
final class StepOutput: Sendable {
    private struct State {
        var current = 0
        var held: [(step: Int, text: String)] = []
    }

    private let state = Mutex(State())

    /// The runner entered step `number`.
    func enter(_ number: Int) {
        state.withLock { $0.current = number }
    }

    /// A line from a command started in step `step`: shown now when that is the current step,
    /// else held for `showLate`.
    func line(_ text: String, label: String, stream: OutputStream, startedIn step: Int, presenter: Presenter) {
        let now = state.withLock { state -> Bool in
            if state.current == step { return true }
            state.held.append((step, "[\(label)] \(text)"))
            return false
        }
        if now { presenter.output(text, label: label, stream: stream) }
    }

    /// Shows the held lines, each group under the step it belongs to.
    func showLate(_ presenter: Presenter) {
        let held = state.withLock { state -> [(step: Int, text: String)] in
            defer { state.held.removeAll() }
            return state.held
        }
        var shownStep: Int?
        for (step, text) in held {
            if step != shownStep {
                presenter.note("late output of step \(step)")
                shownStep = step
            }
            presenter.say(Terminal.escapingControls(text))
        }
    }
}
