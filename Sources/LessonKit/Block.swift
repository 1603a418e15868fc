/// What a fenced code block inside a step asks the runner to do.
public enum Block: Sendable {
    /// ```` ```run ````: a shell command, in the foreground or the background.
    case run(Command)
    /// ```` ```expect ````: lines that must appear, in order, in a command's output.
    case expect(Expectation)
    /// ```` ```expect order ````: events of the last timeline that must come in this order.
    case order(OrderExpectation)
    /// ```` ```timeline labels=a,b ````: the events of several commands (trace spans, packets,
    /// stdout lines at their traced write) on one timeline by epoch time, under the label
    /// `timeline`; a replayed label's recording instead, when one was replayed.
    case timeline(labels: [String])
    /// Prose between the blocks of a step, shown when the runner reaches it.
    case prose(String)
    /// ```` ```prose live ```` / ```` ```prose replay ````: prose true of one mode only, shown
    /// only when the lesson runs live (as root) or only when it replays recordings.
    case modeProse(String, only: Expectation.Source)
    /// ```` ```stop label=x ````: stops a background command (so its closing lines can be expected).
    case stop(label: String, signal: Int32)
}

/// A shell script the runner starts (with `bash -e -o pipefail -c`) in its own process group.
public struct Command: Sendable {
    public var script: String
    /// The name its output is shown under (`[server] ...`) and referred to by (`{port:server}`).
    public var label: String
    /// Keeps running while the lesson goes on; stopped at the end of the lesson at the latest.
    public var background: Bool = false
    /// For a background command: a piece of the line (stdout or stderr) that says it is ready.
    /// The runner waits for it and reads the port from it.
    public var ready: String?
    /// Needs root (capturing packets, network namespaces).
    public var needsRoot: Bool = false
    /// `trace`: runs under `handshake-watch -- bash -c SCRIPT`, the tracer of any program: its
    /// system calls (and, as root, its packets) are printed and go on the lesson's timeline.
    public var traced: Bool = false
    /// What runs instead when there is no root: the ```` ```fallback ```` block right after.
    public var fallback: Fallback?
    /// The exit status a foreground command must end with: 0 unless the block says `status=N`;
    /// nil (`status=any`) accepts every status.
    public var expectedStatus: Int32? = 0
    /// Seconds to wait: for a foreground command to end, for a background one to be ready.
    public var timeout: Double = 30
}

/// The command used instead of a root-only one when the runner is not root: it replays a
/// recorded capture from `captures/`, under the same label.
public struct Fallback: Sendable {
    public var script: String
    public var expectedStatus: Int32? = 0
    public var timeout: Double = 30
}

/// Key lines a command's output must show.
public struct Expectation: Sendable {
    /// The command whose output is checked; by default the command run just before.
    public var label: String
    public var lines: [ExpectedLine]
    /// `stdout` or `stderr` to look at one stream only; nil for both, in arrival order.
    public var stream: OutputStream?
    /// Only checked when the command ran live (`live`), or only when it ran from a capture (`fallback`).
    public var only: Source?
    /// `absent`: none of the lines may appear.
    public var absent: Bool = false
    /// Seconds to wait for the lines of a command that is still running.
    public var timeout: Double = 10

    /// Where a command's output came from: a live run, or the recorded capture its fallback replayed.
    public enum Source: String, Sendable { case live, fallback }
}

/// Which of a process's output streams a line came from.
public enum OutputStream: String, Sendable { case stdout, stderr }
