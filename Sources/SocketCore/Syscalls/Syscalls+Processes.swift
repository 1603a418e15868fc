@preconcurrency import Glibc
import CLinux

/// The process calls of the lesson runner and the tools: pipes to read a child's output, starting
/// it (lab-link asks iproute2's `ip` to make namespaces, as a teacher would type it), waiting for
/// it, signalling it, and sleeping. Wrapped like the socket calls (a `SocketError`
/// naming the call and errno) and untraced: `--trace` is about a program's sockets.
extension Syscall {
    /// pipe2(2) with O_CLOEXEC: a read end and a write end.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        _ = try call("pipe2", "O_CLOEXEC", result: { (_: Int32) in "[fd \(ends[0]), fd \(ends[1])]" }) {
            sockettutor_pipe_cloexec(&ends)
        }
        return (ends[0], ends[1])
    }

    /// How a child starts: posix_spawn(3)'s file actions and attributes, spelled out.
    public struct SpawnOptions {
        /// The child's stdin is /dev/null (a background command that read the terminal would be
        /// stopped by SIGTTIN, and nothing must wait on a hidden prompt).
        public var stdinFromNull = true
        /// Descriptors that become the child's stdout and stderr (dup2); nil keeps ours.
        public var stdout: Int32?
        public var stderr: Int32?
        /// Leader of a new process group (pgid = its pid): `kill(-pgid)` then reaches every
        /// process the command starts.
        public var ownProcessGroup = true
        /// Signals reset to their default action and an empty mask in the child: ours blocks or
        /// ignores some (SIGINT, SIGTERM, SIGPIPE), and both would be inherited across exec.
        public var defaultSignals: [Int32] = [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP]

        public init() {}
    }

    /// posix_spawn(3): starts `path` with `arguments` (argv[0] included) and `environment`
    /// (`NAME=value`). Returns the child's pid.
    public static func spawn(_ path: String, arguments: [String], environment: [String],
                             options: SpawnOptions = SpawnOptions()) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if options.stdinFromNull { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if let out = options.stdout { posix_spawn_file_actions_adddup2(&actions, out, 1) }
        if let err = options.stderr { posix_spawn_file_actions_adddup2(&actions, err, 2) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if options.ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in options.defaultSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SocketError(call: "posix_spawn", errno: Errno(rawValue: result)) }
        return child
    }

    /// posix_spawnp(3) of `arguments[0]` (looked up on PATH) with stdin from /dev/null, stdout to
    /// /dev/null and stderr into `stderrFD`. The child inherits the caller's signal mask: lab-link
    /// blocks SIGINT, SIGTERM and SIGHUP, so the SIGTERM a lesson sends to its process group does
    /// not cut an `ip netns add` or `ip netns del` in half; lab-link reads the signal and takes the
    /// network down itself. Returns the child's pid.
    public static func spawn(_ arguments: [String], stderrFD: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let span = Trace.begin()
        let status = posix_spawnp(&child, arguments[0], &actions, &attributes, &argv, environ)
        guard status == 0 else {
            span?.end("posix_spawnp(\"\(arguments[0])\") -> \(Errno(rawValue: status))")
            throw SocketError(call: "posix_spawnp", errno: Errno(rawValue: status))
        }
        span?.end("posix_spawnp(\"\(arguments.joined(separator: " "))\") -> pid \(child)")
        return child
    }

    /// waitpid(2): waits for `pid` to exit and returns its status as a shell shows it: the exit
    /// code, or 128 + N when signal N killed it. With `noHang`, nil while it still runs.
    /// Also nil when `pid` is not our child (ECHILD).
    public static func waitForExit(_ pid: pid_t, noHang: Bool = false) -> Int32? {
        var raw: Int32 = 0
        while true {
            let result = Glibc.waitpid(pid, &raw, noHang ? WNOHANG : 0)
            if result == pid { return exitCode(raw) }
            if result == 0 { return nil }
            if Errno.current == .interrupted { continue }
            return nil
        }
    }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: the low 7 bits hold the signal.
    public static func exitCode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// kill(2): sends `signal` to a process, or to a whole process group when `pid` is negative.
    /// Returns false when no such process is left (ESRCH) or it is not ours (EPERM).
    @discardableResult
    public static func kill(_ pid: pid_t, _ signal: Int32) -> Bool {
        Glibc.kill(pid, signal) == 0
    }

    /// pause(2) for ever: the thread that calls it waits while another one (the signal thread)
    /// decides how the process ends.
    public static func pauseForever() -> Never {
        while true { _ = Glibc.pause() }
    }

    /// nanosleep(2) for `seconds`, on again after a signal interrupts it. For pacing a replay or
    /// a lesson, and for polls that have no descriptor to wait on.
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let clamped = min(seconds, 86_400)
        var pause = timespec(tv_sec: Int(clamped), tv_nsec: Int((clamped - clamped.rounded(.down)) * 1e9))
        var rest = timespec()
        while Glibc.nanosleep(&pause, &rest) == -1 && Errno.current == .interrupted { pause = rest }
    }
}
