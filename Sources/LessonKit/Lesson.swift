
/// A lesson, as read from `lessons/NN-name.md`: a title, an introduction, numbered steps, and
/// what comes after the last step (the exercises). `lessons/README.md` describes the format.
public struct Lesson: Sendable {
    /// The lesson's number, from its file name (`03-handshake.md` is lesson 3).
    public var number: Int
    /// The file it was read from.
    public var path: String
    /// The text of the `# ` heading.
    public var title: String
    /// Prose before the first step.
    public var introduction: String
    public var steps: [LessonStep]
    /// Prose after the last step: the exercises.
    public var closing: String
    /// Shell scripts from ```` ```cleanup ```` blocks, run before the first step (to remove a
    /// stale set left by a crash) and whenever the lesson ends, however it ends.
    public var cleanup: [String]

    /// True when some command of the lesson needs root.
    public var needsRoot: Bool {
        steps.contains { step in step.commands.contains { $0.needsRoot } }
    }
}

/// One `## Step N: title` section: an explanation, then blocks the runner executes in order.
public struct LessonStep: Sendable {
    public var number: Int
    public var title: String
    /// The prose a teacher reads out before the commands run.
    public var explanation: String
    public var blocks: [Block]

    /// The step's commands, in order.
    public var commands: [Command] {
        blocks.compactMap { if case .run(let command) = $0 { command } else { nil } }
    }
}
