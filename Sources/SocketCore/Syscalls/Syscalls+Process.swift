@preconcurrency import Glibc
import CLinux

/// Running another program and waiting for it: posix_spawn(3) and waitpid(2). lab-link asks
/// iproute2's `ip` to make namespaces and give addresses, as a teacher would type it.
extension Syscall {
    /// posix_spawnp(3) of `arguments[0]` (looked up on PATH) with stdin from /dev/null, stdout to
    /// /dev/null and stderr into `stderrFD`; SIGINT/SIGTERM unblocked in the child even when the
    /// caller blocks them (a blocked mask is inherited). Returns the child's pid.
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
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
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

    /// waitpid(2): waits for the child to end; returns its exit status, or 128 + the signal
    /// that killed it (the shell's convention).
    public static func waitForChild(_ pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        _ = try call("waitpid", "\(pid)") { Glibc.waitpid(pid, &status, 0) }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// pipe2(2) with O_CLOEXEC: a read end and a write end.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        _ = try call("pipe2", "O_CLOEXEC", result: { (_: Int32) in "[fd \(ends[0]), fd \(ends[1])]" }) {
            sockettutor_pipe_cloexec(&ends)
        }
        return (ends[0], ends[1])
    }
}
