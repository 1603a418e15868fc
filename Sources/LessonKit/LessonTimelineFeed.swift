import Foundation
import Synchronization
import SocketCore
import Timeline

/// The lesson's timeline as it happens, for `lesson run N --serve`: one `TimelineEvent` at a
/// time, handed to `sink` (the live view's hub).
///
/// - a step starting: `{"type":"step","time":T,"lesson":3,"number":4,"title":"...","text":"..."}`;
/// - each line of each labelled process: a `--trace` line becomes its `syscall`, any other
///   stdout or stderr line an `output` event, stamped when it arrived;
/// - the packets (and kernel events) of every handshake-watch the lesson starts: each writes its
///   `--format json` objects to the file named by `SOCKETTUTOR_EVENTS_FILE` in its environment,
///   which this feed reads as it grows.
public final class LessonTimelineFeed: Sendable {
    /// The environment variable that asks handshake-watch for a copy of its JSON events.
    public static let eventsFileVariable = "SOCKETTUTOR_EVENTS_FILE"

    let sink: @Sendable (TimelineEvent) -> Void
    /// The file the lesson's handshake-watch processes append their events to.
    public let eventsFile: String

    /// Creates the events file (in a folder of its own under /tmp, removed with the lesson's
    /// temporary folders) and starts the thread that reads it.
    public init(sink: @escaping @Sendable (TimelineEvent) -> Void) throws {
        self.sink = sink
        var template = "/tmp/sockettutor-live-XXXXXX".utf8CString
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw LessonError.stepFailed("cannot create a temporary folder in /tmp")
        }
        let folder = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        Supervisor.shared.addTemporaryFolder(folder)
        eventsFile = folder + "/events.jsonl"
        guard FileManager.default.createFile(atPath: eventsFile, contents: nil) else {
            throw LessonError.stepFailed("cannot create \(eventsFile)")
        }
        let path = eventsFile
        try Threads.detach { Self.follow(path, sink: sink) }
    }

    /// A step starts.
    func step(_ step: LessonStep, lesson: Int) {
        sink(TimelineEvent(type: "step", time: Clock.now(), fields: [
            ("lesson", .integer(lesson)), ("number", .integer(step.number)),
            ("title", .string(step.title)), ("text", .string(step.explanation)),
        ]))
    }

    /// A line a labelled process printed.
    func line(_ line: ChildProcess.Line, label: String, pid: Int) {
        if let call = TraceLine.event(line.text, near: line.time, label: label, pid: pid) {
            sink(call)
        } else {
            sink(.output(time: line.time, label: label, stream: line.stream.rawValue, text: line.text))
        }
    }

    /// Reads the events file as it grows (tail -f), one event per complete line, until it is
    /// removed at the end of the lesson.
    private static func follow(_ path: String, sink: @Sendable (TimelineEvent) -> Void) {
        guard let file = FileHandle(forReadingAtPath: path) else { return }
        var pending = Data()
        while FileManager.default.fileExists(atPath: path) {
            let chunk = file.availableData
            if chunk.isEmpty {
                Syscall.sleep(seconds: 0.05)   // at the end of the file: look again (a pipe would block the writers)
                continue
            }
            pending.append(chunk)
            guard let last = pending.lastIndex(of: 0x0A) else { continue }
            let text = String(decoding: pending[pending.startIndex...last], as: UTF8.self)
            pending.removeSubrange(pending.startIndex...last)
            for event in EventsFile.parse(text).events { sink(event) }
        }
    }
}

/// A child's pid, known once it has been spawned, for the lines its reader threads deliver.
final class ProcessID: Sendable {
    private let stored = Atomic<Int>(0)

    var value: Int {
        get { stored.load(ordering: .relaxed) }
        set { stored.store(newValue, ordering: .relaxed) }
    }
}
