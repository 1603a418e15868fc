import CLinux
import Foundation
@preconcurrency import Glibc
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
        guard let tasks = opendir("/proc/self/task") else { return [] }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true,
                  let text = try? String(contentsOfFile: "/proc/self/task/\(name)/children", encoding: .utf8)
            else { continue }
            found += text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        }
        return found
    }

    /// Stops every child that is not in `tracked` (those are stopped through their groups):
    /// SIGTERM, up to `grace` seconds, then SIGKILL, and reaps each. Repeats, since stopping one
    /// hands its own children to us, until none is left (at most 10 rounds).
    static func stopAll(except tracked: Set<pid_t>, grace: Double = 3) {
        var skipped = tracked   // and those that outlive SIGKILL (stuck in the kernel): tried once
        for _ in 0..<10 {
            let orphans = children().filter { !skipped.contains($0) }
            guard !orphans.isEmpty else { return }
            for pid in orphans { kill(pid, SIGTERM) }
            let left = reap(Set(orphans), within: grace)
            for pid in left { kill(pid, SIGKILL) }
            skipped.formUnion(reap(left, within: 5))
        }
    }

    /// waitpid(WNOHANG) on each until it has exited or `seconds` pass; returns those still running.
    /// Bounded: a process stuck in the kernel (state D) must not hang the end of the lesson.
    private static func reap(_ pids: Set<pid_t>, within seconds: Double) -> Set<pid_t> {
        var left = pids
        let giveUp = Date().addingTimeInterval(seconds)
        while !left.isEmpty {
            left = left.filter { waitpid($0, nil, WNOHANG) == 0 }
            if left.isEmpty || Date() >= giveUp { break }
            usleep(20_000)   // polling their state: no thread waits for these, unlike a ChildProcess
        }
        return left
    }
}
