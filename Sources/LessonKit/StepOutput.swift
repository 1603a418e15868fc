import Synchronization

/// Keeps each step's output in its step, and a bulk transfer to a line a second.
///
/// A background command started in step 2 may print while step 4's prose is on the screen (a
/// server logging a client, a trace line that was still in the pipe); printed there,
/// mid-paragraph, it reads as part of step 4. Such lines are held and shown at the next pause
/// between blocks, under `(late output of step 2)`.
///
/// When `collapsesBulk` is on (`lesson run` without `--verbose`), a watcher's plain data
/// segments and ACKs are held per label as a `BulkTransferRun` and shown as one line per second
/// of transfer; the lines a summary stands for are kept (up to `keptLimit`) for `v` at the prompt.
final class StepOutput: Sendable {
    /// Lines kept for `v` at most; beyond, the oldest go and the listing says how many.
    static let keptLimit = 50_000

    private struct State {
        var current = 0
        var held: [(step: Int, text: String)] = []
        var runs: [String: BulkTransferRun] = [:]
        /// The lines summed up in the current step, and in the step before it.
        var summed: [String] = []
        var summedBefore: [String] = []
        var summedDropped = 0
        var summedDroppedBefore = 0
        /// Whether `briefNote` has been shown.
        var saidBrief = false
    }

    /// Said once, above the first brief line of a watcher.
    static let briefNote = "handshake-watch's lines are shown as --brief prints them; the checks read them whole, "
        + "and lesson run --verbose shows them whole"

    private let state = Mutex(State())
    let collapsesBulk: Bool

    init(collapsesBulk: Bool = false) {
        self.collapsesBulk = collapsesBulk
    }

    /// The runner entered step `number`.
    func enter(_ number: Int) {
        state.withLock { state in
            state.current = number
            (state.summedBefore, state.summedDroppedBefore) = (state.summed, state.summedDropped)
            (state.summed, state.summedDropped) = ([], 0)
        }
    }

    /// A line from a command started in step `step`: shown now when that is the current step
    /// (unless a bulk run holds it), else held for `showLate`.
    ///
    /// `whole`: the whole form of a watcher's line when `text` is its brief form (`LinesForm.paired`),
    /// kept for `v`; an empty `text` is a line recorded, not shown.
    func line(_ text: String, whole: String? = nil, label: String, stream: OutputStream, startedIn step: Int, presenter: Presenter) {
        guard !text.isEmpty || whole == nil else { return }
        let collapses = collapsesBulk
        let (shown, firstBrief) = state.withLock { state -> ([String], Bool) in
            let firstBrief = whole != nil && !state.saidBrief
            if firstBrief { state.saidBrief = true }
            guard state.current == step else {
                state.held.append((step, "[\(label)] \(text)"))
                return ([], firstBrief)
            }
            guard collapses else { return ([text], firstBrief) }
            var run = state.runs[label] ?? BulkTransferRun()
            if var segment = BulkTransferRun.segment(text) {
                segment.whole = whole
                var shown: [String] = []
                if !run.accepts(segment) { shown = Self.end(&run, label: label, in: &state) }
                run.append(segment)
                state.runs[label] = run
                return (shown, firstBrief)
            }
            let shown = Self.end(&run, label: label, in: &state) + [text]
            state.runs[label] = nil
            return (shown, firstBrief)
        }
        if firstBrief { presenter.note(Self.briefNote) }
        for line in shown { presenter.output(line, label: label, stream: stream) }
    }

    /// Ends a run: returns what to show for it and keeps the lines a summary stands for.
    private static func end(_ run: inout BulkTransferRun, label: String, in state: inout State) -> [String] {
        let shown = run.shown
        if shown.count == 1 && run.segments.count > 1 {
            state.summed += run.segments.map { "[\(label)] \($0.whole ?? $0.text)" }
            if state.summed.count > keptLimit {
                state.summedDropped += state.summed.count - keptLimit
                state.summed.removeFirst(state.summed.count - keptLimit)
            }
        }
        run = BulkTransferRun()
        return shown
    }

    /// Shows what the runs hold, then the held late lines, each group under the step it belongs to.
    func showLate(_ presenter: Presenter) {
        let (runs, held) = state.withLock { state -> ([(String, [String])], [(step: Int, text: String)]) in
            var runs: [(String, [String])] = []
            for label in state.runs.keys.sorted() {
                var run = state.runs[label]!
                runs.append((label, Self.end(&run, label: label, in: &state)))
            }
            state.runs = [:]
            defer { state.held.removeAll() }
            return (runs, state.held)
        }
        for (label, lines) in runs {
            for line in lines { presenter.output(line, label: label, stream: .stdout) }
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

    /// How many lines of the last step a summary stands for (for the hint at the prompt).
    var summedInLastStep: Int {
        state.withLock { $0.summedBefore.count }
    }

    /// `v` at the prompt: every line of the last step that a summary stood for.
    func showSummed(_ presenter: Presenter) {
        let (lines, dropped) = state.withLock { ($0.summedBefore, $0.summedDroppedBefore) }
        presenter.note("the \(lines.count) lines the summaries of the last step stand for"
                       + (dropped > 0 ? " (the first \(dropped) are not kept)" : ""))
        for line in lines { presenter.say(Terminal.escapingControls(line)) }
    }
}
