import Foundation
import SocketCore

/// `lesson check`: runs lessons unattended, one line each, and says whether the tools still do
/// what the lessons promise.
///
///     lesson 3 (The three-way handshake, live): ok, 6 steps, 14 checks in 4.21 s
///     lesson 10 (Across a network: ...): skipped (needs root)
///
/// A lesson none of whose checks ran (every command root-only, run without root) is *skipped*,
/// not *ok*: nothing was verified. The whole check passes only if no lesson failed and at
/// least one check ran.
public struct LessonCheck {
    public let options: LessonRunner.Options
    public let verbose: Bool

    public init(options: LessonRunner.Options, verbose: Bool) {
        self.options = options
        self.verbose = verbose
    }

    /// What a run of several lessons came to.
    public struct Outcome: Sendable {
        public var failed: [Int] = []
        public var skipped: [Int] = []
        public var checks = 0
        public var count = 0

        /// The exit status: 0 only when nothing failed and not every lesson was skipped (then
        /// nothing at all was checked).
        public var status: Int32 { failed.isEmpty && (skipped.count < count || count == 0) ? 0 : 1 }
    }

    /// Checks each lesson in turn, printing its line (and the failure on stderr).
    /// `live`: say so in the last line (root, not --from-captures).
    public func run(_ lessons: [Lesson], live: Bool, isClosing: () -> Bool) -> Outcome {
        var outcome = Outcome()
        outcome.count = lessons.count
        for lesson in lessons {
            let runner = LessonRunner(lesson: lesson, options: options, presenter: Presenter(isShowing: verbose))
            let name = "lesson \(lesson.number) (\(lesson.title))"
            do {
                let report = try runner.run()
                outcome.checks += report.checks
                if report.checks == 0 && !report.skipped.isEmpty {
                    Console.line("\(name): skipped (needs root): nothing could be checked without it")
                    outcome.skipped.append(lesson.number)
                    continue
                }
                let checks = report.checks == 1 ? "1 check" : "\(report.checks) checks"
                Console.line("\(name): ok, \(report.steps) steps, \(checks) in \(String(format: "%.2f", report.seconds)) s")
                for fallback in report.fallbacks { Console.line("  replayed from a capture (needs root): \(fallback)") }
                for skipped in report.skipped { Console.line("  skipped (needs root, no capture): \(skipped)") }
            } catch let error as LessonError where error != .interrupted && !isClosing() {
                Console.line("\(name): FAILED")
                Console.error("lesson check: \(error)")
                outcome.failed.append(lesson.number)
            } catch {
                Console.error("lesson check: \(error)")
                outcome.failed.append(lesson.number)
                break
            }
        }
        if !outcome.failed.isEmpty {
            Console.error("lesson check: \(outcome.failed.count) of \(lessons.count) lessons failed: "
                          + outcome.failed.map(String.init).joined(separator: ", "))
        } else if outcome.skipped.count == lessons.count && !lessons.isEmpty {
            Console.error("lesson check: nothing was checked (every command needs root): run it as root")
        } else if lessons.count > 1 {
            let skipped = outcome.skipped.isEmpty ? "" : ", \(outcome.skipped.count) skipped (needs root)"
            Console.line("lesson check: all \(lessons.count - outcome.skipped.count) lessons ok\(skipped)" + (live ? ", live" : ""))
        }
        return outcome
    }
}

extension Lesson {
    /// What `lesson list` says about root: nothing, `(root only)`, `(some steps need root)`, or
    /// that it captures live as root and replays captures/ otherwise.
    public var rootNote: String {
        let commands = steps.flatMap(\.commands)
        if !needsRoot { return "" }
        if commands.allSatisfy(\.needsRoot) { return "(root only)" }
        if commands.contains(where: { $0.needsRoot && $0.fallback == nil }) { return "(some steps need root)" }
        return "(captures live as root, replays captures/ otherwise)"
    }
}
