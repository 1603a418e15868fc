@preconcurrency import Glibc
import Foundation
import SocketCore

/// One command of a lesson running as a real process: `bash -c SCRIPT`, started with
/// posix_spawn(3) as the leader of its own process group, its stdout and stderr read line by line
/// on two threads, its exit collected by a third.
///
/// Its own process group is what makes cleaning up reliable: `ip netns exec st-server echo-server`
/// or `a | b` are several processes, and `kill(-pgid, SIGTERM)` reaches all of them, while
/// Ctrl-C on the teacher's terminal reaches only the runner, which then stops each group in order.
public final class ChildProcess: @unchecked Sendable {
    /// The label its lines are shown under.
    public let label: String
    /// Its process id, which is also its process group id.
    public let pid: pid_t

    /// A line of output, the stream it came on, and when the runner read it.
    public struct Line: Sendable {
        public let stream: OutputStream
        public let text: String
        /// CLOCK_REALTIME when the line was read from the pipe: a `--trace` line's time of day is
        /// placed on the day nearest this (`TraceLine`), so a timeline merges across midnight.
        public let time: EpochTime

        public init(stream: OutputStream, text: String, time: EpochTime = Clock.now()) {
            self.stream = stream
            self.text = text
            self.time = time
        }
    }

    private let condition = NSCondition()
    private var received: [Line] = []
    private var openStreams = 2
    private var status: Int32?

    /// Starts `bash -c script` (with `-e -o pipefail` when `strict`). `onLine` sees each line as it
    /// arrives, on a reader thread.
    public init(label: String, script: String, strict: Bool, environment: [String: String],
                onLine: @escaping @Sendable (Line) -> Void) throws {
        self.label = label
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SocketError(call: "pipe", errno: Errno(rawValue: errno)) }
        guard pipe(&errPipe) == 0 else {
            let saved = errno
            close(outPipe[0]); close(outPipe[1])
            throw SocketError(call: "pipe", errno: Errno(rawValue: saved))
        }
        // Close-on-exec on all four ends: the child gets its copies through dup2() only, so
        // no other command ever holds our pipes open.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // stdin is /dev/null: a command in a background process group that read the terminal
        // would be stopped by SIGTTIN, and a lesson must never wait on a hidden prompt.
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group led by the child (pgid 0 = the child's pid); an empty signal mask
        // and default actions, since the runner blocks SIGINT/SIGTERM and ignores SIGPIPE, and
        // both would otherwise be inherited across exec.
        posix_spawnattr_setpgroup(&attributes, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = strict ? ["bash", "-e", "-o", "pipefail", "-c", script] : ["bash", "-c", script]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/bin/bash", &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SocketError(call: "posix_spawn", errno: Errno(rawValue: spawned))
        }
        pid = child
        let spawnedPid = child

        try startReader(fd: outPipe[0], stream: .stdout, onLine: onLine)
        try startReader(fd: errPipe[0], stream: .stderr, onLine: onLine)
        try Threads.detach { [self] in
            var raw: Int32 = 0
            while waitpid(spawnedPid, &raw, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: the low 7 bits hold the signal.
            let signal = raw & 0x7f
            let code = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            condition.lock()
            status = code
            condition.broadcast()
            condition.unlock()
        }
    }

    private func startReader(fd: Int32, stream: OutputStream, onLine: @escaping @Sendable (Line) -> Void) throws {
        try Threads.detach { [self] in
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: 0x0A) {
                    var bytes = pending[..<newline]
                    if bytes.last == 0x0D { bytes = bytes.dropLast() }
                    deliver(Line(stream: stream, text: String(decoding: bytes, as: UTF8.self)), onLine)
                    pending.removeSubrange(...newline)
                }
            }
            if !pending.isEmpty {
                deliver(Line(stream: stream, text: String(decoding: pending, as: UTF8.self)), onLine)
            }
            close(fd)
            condition.lock()
            openStreams -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Shows the line first, then records it: whoever waits for this line (a readiness wait, an
    /// expectation) goes on only after it is on the screen, so the lesson's output stays in order.
    /// What is recorded has its ANSI colours taken out (`handshake-watch --color always` on a
    /// terminal): expectations and timelines match the text, not the escape codes.
    private func deliver(_ line: Line, _ onLine: @Sendable (Line) -> Void) {
        onLine(line)
        let plain = line.text.contains("\u{1B}")
            ? Line(stream: line.stream, text: Terminal.withoutEscapes(line.text), time: line.time) : line
        condition.lock()
        received.append(plain)
        condition.broadcast()
        condition.unlock()
    }

    /// Every line so far, both streams in arrival order (or one of them).
    public func lines(_ stream: OutputStream? = nil) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        return received.filter { stream == nil || $0.stream == stream }.map(\.text)
    }

    /// Every line so far, with its stream and when it was read: what a timeline is made of.
    public func receivedLines() -> [Line] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    /// The exit status (128 + N for a signal), or nil while it runs.
    public var exitStatus: Int32? {
        condition.lock()
        defer { condition.unlock() }
        return status
    }

    /// True once the process has exited and both pipes are at end of file: no more lines will come.
    public var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return status != nil && openStreams == 0
    }

    /// Waits until `done` holds for the lines received so far, the output ends, or `timeout`
    /// seconds pass. Returns whether `done` held.
    public func wait(timeout: Double, until done: ([String]) -> Bool, stream: OutputStream? = nil) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let snapshot = received.filter { stream == nil || $0.stream == stream }.map(\.text)
            if done(snapshot) { return true }
            if status != nil && openStreams == 0 { return false }
            if !condition.wait(until: deadline) {
                let last = received.filter { stream == nil || $0.stream == stream }.map(\.text)
                return done(last)
            }
        }
    }

    /// Waits (at most `timeout` seconds) for the process to exit and its output to end; returns
    /// the exit status, or nil if it is still running. Output held open by a stray grandchild
    /// does not hold up the answer for more than the timeout.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while status == nil || openStreams > 0 {
            if !condition.wait(until: deadline) { break }
        }
        return status
    }

    /// Stops the whole process group: `signal`, up to `grace` seconds to exit, then SIGKILL.
    /// A last SIGKILL to the group removes anything the command left running in it.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Double = 3) -> Int32? {
        if exitStatus == nil {
            kill(-pid, signal)
            if waitForExit(timeout: grace) == nil {
                kill(-pid, SIGKILL)
                _ = waitForExit(timeout: 5)
            }
        }
        kill(-pid, SIGKILL)
        return exitStatus
    }
}
