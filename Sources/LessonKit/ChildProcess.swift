@preconcurrency import Glibc
import SocketCore
import Timeline

/// One command of a lesson running as a real process: `bash -c SCRIPT`, started with
/// posix_spawn(3) as the leader of its own process group, its stdout and stderr read line by line
/// on two threads, its exit collected by a third.
///
/// Its own process group is what makes cleaning up reliable: `ip netns exec st-server echo-server`
/// or `a | b` are several processes, and `kill(-pgid, SIGTERM)` reaches all of them, while
/// Ctrl-C on the teacher's terminal reaches only the runner, which then stops each group in order.
///
/// What it keeps is bounded, whatever the command prints: the last `keptLines` lines (and at most
/// `keptBytes` bytes of them), each cut at `maxLineBytes`. Expectations match what is kept; the
/// rest is counted (`droppedLines`), so a failure can say that older lines went out of view.
public final class ChildProcess: Sendable {
    /// The label its lines are shown under.
    public let label: String
    /// Its process id, which is also its process group id.
    public let pid: pid_t

    /// The lines kept for expectations and timelines, far beyond any lesson's output.
    public static let keptLines = 50_000
    public static let keptBytes = 32 << 20
    /// A longer line is kept (and shown) cut here, with the number of bytes left out.
    public static let maxLineBytes = 1 << 20

    /// A line of output, the stream it came on, and when the runner read it.
    public struct Line: Sendable {
        public let stream: OutputStream
        public let text: String
        /// CLOCK_REALTIME when the line was read from the pipe: a `--trace` line's time of day is
        /// placed on the day nearest this (`TraceLine`), so a timeline merges across midnight.
        public let time: EpochTime
        /// What the screen shows instead of `text`, when a watcher printed the projector's form
        /// beside the whole line (`LinesForm.paired`); "" for a line kept but not shown.
        public let shown: String?

        public init(stream: OutputStream, text: String, time: EpochTime = Clock.now(), shown: String? = nil) {
            self.stream = stream
            self.text = text
            self.time = time
            self.shown = shown
        }
    }

    private struct State {
        var received: [Line] = []
        /// Where the kept lines start in `received` (older ones are dropped in batches).
        var first = 0
        var keptBytes = 0
        var droppedLines = 0
        var openStreams = 2
        var status: Int32?

        var kept: ArraySlice<Line> { received[first...] }

        mutating func append(_ line: Line) {
            received.append(line)
            keptBytes += line.text.utf8.count
            while received.count - first > ChildProcess.keptLines || keptBytes > ChildProcess.keptBytes,
                  first < received.count - 1 {
                keptBytes -= received[first].text.utf8.count
                first += 1
                droppedLines += 1
            }
            if first > 4096 && first * 2 > received.count {   // compact now and then, not per line
                received.removeFirst(first)
                first = 0
            }
        }
    }

    private let state = ConditionLock(State())

    /// Whether lines are read as paired (`LinesForm.paired`: the runner asked its watchers for it);
    /// otherwise a byte 0x1E in a line is only text.
    let readsPairs: Bool

    /// Starts `bash -c script` (with `-e -o pipefail` when `strict`). `onLine` sees each line as it
    /// arrives, on a reader thread. `readsPairs`: split watchers' paired lines (`deliver`).
    public init(label: String, script: String, strict: Bool, environment: [String: String], readsPairs: Bool = false,
                onLine: @escaping @Sendable (Line) -> Void) throws {
        self.label = label
        self.readsPairs = readsPairs
        let output = try Syscall.pipe()
        let errors: (read: Int32, write: Int32)
        do { errors = try Syscall.pipe() } catch {
            Syscall.closeQuietly(output.read); Syscall.closeQuietly(output.write)
            throw error
        }
        var options = Syscall.SpawnOptions()
        options.stdout = output.write
        options.stderr = errors.write
        let arguments = strict ? ["bash", "-e", "-o", "pipefail", "-c", script] : ["bash", "-c", script]
        let spawned = Result {
            try Syscall.spawn("/bin/bash", arguments: arguments,
                              environment: environment.map { "\($0.key)=\($0.value)" }, options: options)
        }
        // Our copies of the write ends go at once: the readers see end of file when the
        // command (and everything it started) has closed its own.
        Syscall.closeQuietly(output.write)
        Syscall.closeQuietly(errors.write)
        guard case .success(let child) = spawned else {
            Syscall.closeQuietly(output.read); Syscall.closeQuietly(errors.read)
            if case .failure(let error) = spawned { throw error }
            fatalError("unreachable")
        }
        pid = child
        try startReader(fd: output.read, stream: .stdout, onLine: onLine)
        try startReader(fd: errors.read, stream: .stderr, onLine: onLine)
        try Threads.detach { [state] in
            let code = Syscall.waitForExit(child) ?? 128 + SIGKILL
            state.update { $0.status = code }
        }
    }

    private func startReader(fd: Int32, stream: OutputStream, onLine: @escaping @Sendable (Line) -> Void) throws {
        try Threads.detach { [self] in
            let lines = LineSplitter(maxLineBytes: Self.maxLineBytes)
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                guard let count = try? buffer.withUnsafeMutableBytes({ try Syscall.read(fd, into: $0, traced: false) }),
                      count > 0 else { break }
                lines.add(buffer[0..<count]) { deliver(Line(stream: stream, text: $0), onLine) }
            }
            lines.finish { deliver(Line(stream: stream, text: $0), onLine) }
            Syscall.closeQuietly(fd)
            state.update { $0.openStreams -= 1 }
        }
    }

    /// Shows the line first, then records it: whoever waits for this line (a readiness wait, an
    /// expectation) goes on only after it is on the screen, so the lesson's output stays in order.
    /// What is recorded has its ANSI colours taken out (`handshake-watch --color always` on a
    /// terminal): expectations and timelines match the text, not the escape codes.
    ///
    /// A watcher's paired line (`LinesForm.paired`: `brief␞whole`) is shown in its brief form and
    /// recorded in its whole one; an empty half is not shown, or not recorded.
    private func deliver(_ line: Line, _ onLine: @Sendable (Line) -> Void) {
        if readsPairs, let separator = line.text.utf8.firstIndex(of: LinesForm.separator) {
            let shown = String(line.text[..<separator])
            let whole = String(line.text[line.text.index(after: separator)...])
            onLine(Line(stream: line.stream, text: whole, time: line.time, shown: shown))
            if !whole.isEmpty { record(Line(stream: line.stream, text: whole, time: line.time)) }
            return
        }
        onLine(line)
        record(line)
    }

    /// Keeps a line for expectations and timelines, without ANSI colours.
    private func record(_ line: Line) {
        let plain = line.text.utf8.contains(0x1B)
            ? Line(stream: line.stream, text: Terminal.withoutEscapes(line.text), time: line.time) : line
        state.update { $0.append(plain) }
    }

    /// Every line kept, both streams in arrival order (or one of them).
    public func lines(_ stream: OutputStream? = nil) -> [String] {
        state.withLock { $0.kept.filter { stream == nil || $0.stream == stream }.map(\.text) }
    }

    /// Every line kept, with its stream and when it was read: what a timeline is made of.
    public func receivedLines() -> [Line] {
        state.withLock { Array($0.kept) }
    }

    /// How many of the oldest lines were dropped from view to keep the memory bounded.
    public var droppedLines: Int {
        state.withLock { $0.droppedLines }
    }

    /// The exit status (128 + N for a signal), or nil while it runs.
    public var exitStatus: Int32? {
        state.withLock { $0.status }
    }

    /// True once the process has exited and both pipes are at end of file: no more lines will come.
    public var isFinished: Bool {
        state.withLock { $0.status != nil && $0.openStreams == 0 }
    }

    /// Waits until `done` holds for the lines kept so far, the output ends, or `timeout`
    /// seconds pass. Returns whether `done` held.
    public func wait(timeout: Double, until done: ([String]) -> Bool, stream: OutputStream? = nil) -> Bool {
        state.wait(seconds: timeout) { state -> Bool? in
            let snapshot = state.kept.filter { stream == nil || $0.stream == stream }.map(\.text)
            if done(snapshot) { return true }
            return state.status != nil && state.openStreams == 0 ? false : nil
        } ?? false
    }

    /// Waits (at most `timeout` seconds) for the process to exit and its output to end; returns
    /// the exit status, or nil if it is still running. Output held open by a stray grandchild
    /// does not hold up the answer for more than the timeout.
    public func waitForExit(timeout: Double) -> Int32? {
        _ = state.wait(seconds: timeout) { $0.status != nil && $0.openStreams == 0 ? true : nil }
        return exitStatus
    }

    /// Stops the whole process group: `signal`, up to `grace` seconds to exit, then SIGKILL.
    /// A last SIGKILL to the group removes anything the command left running in it.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Double = 3) -> Int32? {
        if exitStatus == nil {
            Syscall.kill(-pid, signal)
            if waitForExit(timeout: grace) == nil {
                Syscall.kill(-pid, SIGKILL)
                _ = waitForExit(timeout: 5)
            }
        }
        Syscall.kill(-pid, SIGKILL)
        return exitStatus
    }
}

/// Cuts a byte stream into lines as it arrives. Each chunk is searched once for newlines (only
/// the new bytes: a 30 MB line costs one pass, not one per read), and a line longer than
/// `maxLineBytes` is cut there, with the number of bytes left out appended, so no single line can
/// take the memory.
final class LineSplitter {
    private let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var skipped = 0

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    func add(_ chunk: ArraySlice<UInt8>, _ emit: (String) -> Void) {
        var start = chunk.startIndex
        while let newline = chunk[start...].firstIndex(of: 0x0A) {
            take(chunk[start..<newline])
            end(emit)
            start = newline + 1
        }
        take(chunk[start...])
    }

    /// The last line, when the stream ended without a newline.
    func finish(_ emit: (String) -> Void) {
        if !pending.isEmpty || skipped > 0 { end(emit) }
    }

    private func take(_ bytes: ArraySlice<UInt8>) {
        let room = maxLineBytes - pending.count
        if bytes.count <= room {
            pending.append(contentsOf: bytes)
        } else {
            pending.append(contentsOf: bytes.prefix(max(room, 0)))
            skipped += bytes.count - max(room, 0)
        }
    }

    private func end(_ emit: (String) -> Void) {
        if pending.last == 0x0D { pending.removeLast() }
        var text = String(decoding: pending, as: UTF8.self)
        if skipped > 0 { text += " [… \(skipped) more bytes of this line not kept]" }
        emit(text)
        pending.removeAll(keepingCapacity: pending.count <= 65536)
        skipped = 0
    }
}
