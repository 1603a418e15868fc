@preconcurrency import Glibc
import CLinux
import SocketCore

/// Every process a lesson starts, however far it wanders: a command that leaves its process
/// group (`setsid sleep 4243 &`, a daemon's double fork) escapes `kill(-pgid)`, and once its
/// parent exits, Linux hands it to init and nobody stops it.
///
/// As a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER) the runner inherits such orphans
/// instead of init: they show up as its own children in /proc, where `stopAll` finds them.
enum Descendants {
    /// prctl(PR_SET_CHILD_SUBREAPER, 1): from now on, orphaned descendants become our children.
    static func becomeSubreaper() throws {
        _ = try Syscall.call("prctl", "PR_SET_CHILD_SUBREAPER, 1") { sockettutor_set_child_subreaper() }
    }

    /// Our children now: /proc/self/task/TID/children of every thread (an orphan is handed to
    /// the subreaper process, and /proc lists children per thread).
    static func children() -> [pid_t] {
        var found: [pid_t] = []
        for task in Syscall.directoryNames("/proc/self/task") ?? [] where task.first?.isNumber == true {
            guard let bytes = try? Syscall.readFile("/proc/self/task/\(task)/children", limit: 1 << 20, traced: false)
            else { continue }
            found += bytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A })
                .compactMap { pid_t(String(decoding: $0, as: UTF8.self)) }
        }
        return found
    }

    /// Stops every child that is not in `tracked` (those are stopped through their groups) and
    /// returns the pids that could not be stopped (empty when all is well).
    ///
    /// First SIGTERM to all of them and up to `grace` seconds to exit. Then SIGKILL to every
    /// child still there, the ones that appeared meanwhile included: a process that answers
    /// SIGTERM by starting a copy of itself (`trap 'setsid bash self.sh &' TERM`) hands that copy
    /// to us when it exits, and SIGKILL cannot be trapped. Repeated until no child is left, for
    /// at most `limit` seconds: a process stuck in the kernel (state D) must not hang the end.
    @discardableResult
    static func stopAll(except tracked: Set<pid_t>, grace: Double = 3, limit: Double = 10) -> [pid_t] {
        let first = children().filter { !tracked.contains($0) }
        guard !first.isEmpty else { return [] }
        for pid in first { Syscall.kill(pid, SIGTERM) }
        _ = reap(Set(first), within: grace)
        let giveUp = Clock.monotonic() + limit
        while true {
            let left = children().filter { !tracked.contains($0) }
            if left.isEmpty { return [] }
            for pid in left { Syscall.kill(pid, SIGKILL) }
            let stuck = reap(Set(left), within: 0.5)
            if Clock.monotonic() >= giveUp { return stuck.sorted() }
        }
    }

    /// waitpid(WNOHANG) on each until it has exited or `seconds` pass; returns those still running.
    private static func reap(_ pids: Set<pid_t>, within seconds: Double) -> Set<pid_t> {
        var left = pids
        let giveUp = Clock.monotonic() + seconds
        while !left.isEmpty {
            left = left.filter { Syscall.waitForExit($0, noHang: true) == nil && isOurChild($0) }
            if left.isEmpty || Clock.monotonic() >= giveUp { break }
            Syscall.sleep(seconds: 0.02)   // polling their state: no thread waits for these, unlike a ChildProcess
        }
        return left
    }

    /// Whether `pid` is still our child (waitpid answers ECHILD once another waiter reaped it).
    private static func isOurChild(_ pid: pid_t) -> Bool {
        children().contains(pid)
    }
}
