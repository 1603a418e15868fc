import ArgumentParser
import BuildInfo
import Foundation
import LessonKit
import LiveView
import SocketCore

/// `lesson`: runs the classroom walkthroughs in `lessons/` step by step, and checks that they
/// still tell the truth about the tools.
@main
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Classroom walkthroughs of sockets and TCP, run step by step.",
        discussion: """
            Each lesson in lessons/ is Markdown with steps; the runner starts the commands of each \
            step (servers in the background on port 0, watchers, clients), labels their output and \
            checks it against what the lesson promises. Whatever it started is stopped at the end, \
            on a failing step and on Ctrl-C. lessons/README.md describes the format.
            The lessons are found in $SOCKETTUTOR_SHARE/lessons when SOCKETTUTOR_SHARE is set, else in the \
            checkout run from, else in share/sockettutor/lessons beside this executable's bin/ (an \
            installation); their commands run in the folder holding lessons/, with the tools beside \
            lesson first on PATH.
            """,
        version: BuildInfo.versionLine,
        subcommands: [List.self, Run.self, Check.self])
}

/// Options every subcommand shares.
struct Common: ParsableArguments {
    @Option(help: "The lessons folder (default: $SOCKETTUTOR_SHARE/lessons, else lessons/ of the checkout found from here or from this executable, else share/sockettutor/lessons beside this executable's bin/).")
    var lessons: String?

    @Flag(help: "Run root-only steps from their recorded captures in captures/, even as root.")
    var fromCaptures = false

    /// The catalog, and the current folder moved to the package root (lessons name
    /// `captures/...` and `Sources/...` relative to it).
    func catalog() throws -> Catalog {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        guard let found = lessons.map(Catalog.init(folder:)) ?? Catalog.locate(executable: executable) else {
            throw LessonError.notFound("cannot find the lessons/ folder (looked in \(Catalog.installedShare(executable: executable))/lessons): "
                + "run from the package, set SOCKETTUTOR_SHARE to the folder holding lessons/, or pass --lessons DIR")
        }
        _ = try found.files()   // a missing or empty folder: one line now, not a confusing one later
        let catalog = found.absolute
        _ = FileManager.default.changeCurrentDirectoryPath(catalog.packageRoot)
        return catalog
    }

    /// A lesson named on the command line: a number as it is, a file made absolute from the folder
    /// the command started in (catalog() then moves to the package root).
    static func lessonArgument(_ which: String) -> String {
        Int(which) != nil ? which : URL(fileURLWithPath: which).standardizedFileURL.path
    }

    /// Where the tools are: `$SOCKETTUTOR_BIN`, else beside this executable (`.build/debug`, or
    /// `PREFIX/bin` when installed).
    var binDirectory: String {
        if let override = ProcessInfo.processInfo.environment["SOCKETTUTOR_BIN"] { return override }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}

/// Runs `body`, turning a lesson error into one line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as LessonError {
        // Ctrl-C: the signal thread is stopping everything (children killed that way make their
        // step fail, which is no news) and will exit with 128 + signal; leave the last word to it.
        if Supervisor.shared.isClosing {
            Syscall.pauseForever()
        }
        if error == .interrupted {
            Console.line("lesson stopped; everything it started has been stopped")
            throw ExitCode.success
        }
        Console.error("lesson: \(error)")
        throw ExitCode.failure
    }
}

/// Blocks SIGINT/SIGTERM and answers them by stopping everything: call before any thread starts.
/// With `--serve`, every browser gets `event: end` first.
func stopEverythingOnSignal(endingStreamsOf hub: EventHub? = nil) {
    Console.lineBuffered()
    Supervisor.shared.handleTermination { signal in
        let name = signal == SIGINT ? "interrupted (SIGINT)" : signal == SIGHUP ? "hung up (SIGHUP)" : "terminated (SIGTERM)"
        Console.error("lesson: \(name): stopping everything it started")
        hub?.end(waitingUpTo: 2)
    }
}

/// `lesson run N --serve`: the live view's server, fed by the lesson's timeline.
enum LessonServing {
    /// Starts serving, prints the readiness line, and returns the feed for the runner.
    static func start(_ address: String, hub: EventHub) throws -> LessonTimelineFeed {
        do { _ = try LiveViewServer.start(serving: address, hub: hub) } catch {
            throw LessonError.stepFailed(error.description)
        }
        return try LessonTimelineFeed { hub.append(Array($0.jsonLine.utf8)) }
    }

    /// After the lesson: the page stays up until SIGINT or SIGTERM (the signal thread ends the
    /// streams and exits).
    static func serveUntilTerminated() -> Never {
        Console.error("lesson: done; still serving the live view until Ctrl-C")
        Syscall.pauseForever()
    }
}

extension LessonCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the lessons.")
        @OptionGroup var common: Common

        func run() throws {
            Console.lineBuffered()
            try reportingErrors {
                for lesson in try common.catalog().lessons() {
                    let number = lesson.number < 10 ? " \(lesson.number)" : "\(lesson.number)"
                    let root = lesson.rootNote.isEmpty ? "" : "  " + lesson.rootNote
                    Console.line("\(number)  \(lesson.title)  [\(lesson.steps.count) steps]\(root)")
                }
            }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a lesson step by step (Enter before each step).")
        @OptionGroup var common: Common

        @Argument(help: "The lesson: its number from `lesson list`, or a lesson file.")
        var lesson: String

        @Flag(help: "No pauses: run every step straight through (the classroom demo).")
        var auto = false

        @Option(help: "Start at step N: earlier steps run quietly (so the servers they start are there), then the Enter prompt comes before step N, with --auto too.")
        var step: Int = 1

        @Option(help: "Seconds to wait after each step, so a class can follow (0 to 60); without --auto, the Enter prompt comes after the wait.")
        var pace: Double = 0

        @Option(help: "Wrap prose to N columns (default: the terminal's width from TIOCGWINSZ, else $COLUMNS, else 80).")
        var width: Int?

        @Flag(name: .shortAndLong, help: "Every line the watchers print, whole. Without it they are shown as --brief prints them (the checks read them whole), and a bulk transfer's plain data segments and ACKs are summed up, one line per second of it (`#1 … 212 data segments, 212 ACKs, 2.1 MB in 0.8 s …`); v and Enter at the next prompt shows them whole.")
        var verbose = false

        @Option(help: ArgumentHelp("Serve the live view of the whole lesson (packets, system calls, steps) on http://ADDR:PORT/ "
                                   + "(127.0.0.1 unless ADDR is given; 0 picks a port) until SIGINT or SIGTERM.", valueName: "[addr:]port"))
        var serve: String?

        func validate() throws {
            guard pace.isFinite, pace >= 0, pace <= 60 else {
                throw ValidationError("--pace must be a number of seconds from 0 to 60")
            }
            if let width, !(20...1000).contains(width) { throw ValidationError("--width must be in 20...1000") }
            guard step >= 1 else { throw ValidationError("--step must be 1 or more") }
            if let serve, ServeAddress(serve) == nil { throw ValidationError("--serve takes [ADDR:]PORT (8080, 0, 0.0.0.0:8080), got '\(serve)'") }
        }

        func run() throws {
            // As root the lesson captures live; otherwise (or --from-captures) it replays recordings.
            let hub = serve.map { _ in EventHub(source: geteuid() == 0 && !common.fromCaptures ? .live : .replay) }
            stopEverythingOnSignal(endingStreamsOf: hub)
            try reportingErrors {
                let which = Common.lessonArgument(self.lesson)
                let catalog = try common.catalog()
                let lesson = try catalog.lesson(which)
                guard step >= 1 && step <= lesson.steps.count else {
                    throw LessonError.notFound("lesson \(lesson.number) has steps 1 to \(lesson.steps.count)")
                }
                var options = LessonRunner.Options(mode: auto ? .auto : .interactive, binDirectory: common.binDirectory)
                options.firstStep = step
                options.pace = pace
                options.fromCaptures = common.fromCaptures
                options.projectorForm = !verbose
                let presenter = Presenter(isShowing: true, width: width ?? Terminal.width())
                if let refusal = LessonRunner(lesson: lesson, options: options, presenter: presenter).rootRefusal {
                    throw LessonError.notFound(refusal)
                }
                options.timeline = try hub.map { try LessonServing.start(serve ?? "0", hub: $0) }
                try LessonRunner(lesson: lesson, options: options, presenter: presenter).run()
                if hub != nil { LessonServing.serveUntilTerminated() }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run lessons unattended and check that every step prints what the lesson promises.",
            discussion: "Exits 1 naming the lesson, the step and the difference when a lesson no longer matches the tools, and when nothing could be checked (every command of the lessons needs root). Each expectation that held is shown as `✓ checked: ...` with --verbose.")
        @OptionGroup var common: Common

        @Argument(help: "Lessons to check (numbers or files); all when none is given.")
        var lessons: [String] = []

        @Flag(name: .shortAndLong, help: "Show every step and all output while checking.")
        var verbose = false

        func run() throws {
            stopEverythingOnSignal()
            try reportingErrors {
                let which = lessons.map(Common.lessonArgument)
                let catalog = try common.catalog()
                let selected = try which.isEmpty ? catalog.lessons() : which.map { try catalog.lesson($0) }
                var options = LessonRunner.Options(mode: .check, binDirectory: common.binDirectory)
                options.fromCaptures = common.fromCaptures
                let outcome = LessonCheck(options: options, verbose: verbose)
                    .run(selected, live: geteuid() == 0 && !common.fromCaptures, isClosing: { Supervisor.shared.isClosing })
                if outcome.status != 0 { throw ExitCode(outcome.status) }
            }
        }
    }
}
