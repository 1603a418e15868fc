@preconcurrency import Glibc
import Foundation
import SocketCore

/// Keeps the list of everything a lesson started and takes it all down again: at the end of a
/// lesson, when a step fails, and on Ctrl-C or SIGTERM. "Never leave a server, a watcher or a
/// namespace behind" is this type's one job.
///
/// Signals are not handled in a signal handler: `Signals.blockTermination()` blocks SIGINT and
/// SIGTERM before any thread starts, and a thread waits for them with sigwait(), then stops the
/// children, runs the lesson's cleanup scripts, removes the temporary folder and exits 130.
public final class Supervisor: @unchecked Sendable {
    public static let shared = Supervisor()

    private let lock = NSLock()
    private var children: [ChildProcess] = []
    private var cleanupScripts: [String] = []
    private var temporaryFolders: [String] = []
    private var environment: [String: String] = [:]
    private var closing = false

    /// Blocks SIGINT/SIGTERM and starts the thread that answers them. Call first thing in main,
    /// before any other thread exists.
    public func handleTermination(onSignal report: @escaping @Sendable (Int32) -> Void) {
        Signals.blockTermination()
        Signals.ignoreBrokenPipe()
        // SIGHUP (the teacher's terminal closed) ends the lesson the same way: the children sit
        // in their own process groups, so the terminal's hangup would not reach them. Blocked
        // here, before any thread starts, like SIGINT and SIGTERM.
        var hangup = sigset_t()
        sigemptyset(&hangup)
        sigaddset(&hangup, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &hangup, nil)
        try? Threads.detach { [self] in
            let signal = Signals.waitForTermination()
            report(signal)
            stopEverything()
            exit(128 + signal)
        }
        try? Threads.detach { [self] in
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGHUP)
            var received: Int32 = 0
            while sigwait(&set, &received) != 0 {}
            report(SIGHUP)
            stopEverything()
            exit(128 + SIGHUP)
        }
    }

    /// Records a started child; refuses (and stops it) once shutting down has begun.
    func adopt(_ child: ChildProcess) throws {
        lock.lock()
        let refused = closing
        if !refused { children.append(child) }
        lock.unlock()
        if refused {
            child.stop(grace: 1)
            throw LessonError.interrupted
        }
    }

    /// Whether shutting down has begun (Ctrl-C): the runner starts nothing new after that.
    public var isClosing: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closing
    }

    /// Registers the lesson's cleanup scripts (and the environment to run them with).
    func setCleanup(_ scripts: [String], environment: [String: String]) {
        lock.lock()
        cleanupScripts = scripts
        self.environment = environment
        lock.unlock()
    }

    /// Registers a folder to delete when the lesson ends.
    func addTemporaryFolder(_ path: String) {
        lock.lock()
        temporaryFolders.append(path)
        lock.unlock()
    }

    /// Stops every child still running, newest first (a watcher before the server it watches,
    /// clients before servers).
    func stopChildren() {
        lock.lock()
        let running = children
        children = []
        lock.unlock()
        // SIGTERM to every group at once, newest first, so a slow one does not delay the rest;
        // then each gets what is left of 3 seconds before SIGKILL.
        for child in running.reversed() where child.exitStatus == nil { kill(-child.pid, SIGTERM) }
        for child in running.reversed() { child.stop(grace: 3) }
        // What left its group (setsid, a double fork) was handed to us as the subreaper. The
        // children stopped above are left to their own waiters, even one not reaped yet.
        Descendants.stopAll(except: Set(running.map(\.pid)))
    }

    /// Makes this process the child subreaper once, before the first child starts, so that
    /// nothing a lesson starts can slip away to init.
    func becomeSubreaper() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !isSubreaper else { return }
        try Descendants.becomeSubreaper()
        isSubreaper = true
    }

    private var isSubreaper = false

    /// Runs the cleanup scripts (each bounded to 20 s). Also used before the first step.
    func runCleanup() {
        lock.lock()
        let scripts = cleanupScripts
        let environment = self.environment
        lock.unlock()
        for script in scripts {
            guard let child = try? ChildProcess(label: "cleanup", script: script, strict: false,
                                                environment: environment, onLine: { _ in }) else { continue }
            _ = child.waitForExit(timeout: 20)
            child.stop(grace: 1)
        }
    }

    /// Ctrl-C: stops everything and refuses to start anything new, for good. Safe to call while
    /// the runner is itself finishing a lesson: the second caller waits for the first.
    public func stopEverything() {
        lock.lock()
        closing = true
        lock.unlock()
        finishLesson()
    }

    /// The end of a lesson, however it ended: children, cleanup scripts, temporary folders.
    public func finishLesson() {
        finishLock.lock()
        defer { finishLock.unlock() }
        stopChildren()
        runCleanup()
        lock.lock()
        cleanupScripts = []
        let folders = temporaryFolders
        temporaryFolders = []
        lock.unlock()
        for folder in folders { try? FileManager.default.removeItem(atPath: folder) }
    }

    private let finishLock = NSLock()
}
