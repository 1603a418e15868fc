import CCrashGuard
import Foundation
import SocketCore
import Synchronization

/// Keeps the list of everything a lesson started and takes it all down again: at the end of a
/// lesson, when a step fails, and on Ctrl-C or SIGTERM. "Never leave a server, a watcher or a
/// namespace behind" is this type's one job.
///
/// Signals are not handled in a signal handler: `handleTermination` blocks SIGINT, SIGTERM and
/// SIGHUP before any thread starts, and a thread waits for them with sigwait(), then stops the
/// children, runs the lesson's cleanup scripts, removes the temporary folder and exits 128 + N.
public final class Supervisor: Sendable {
    public static let shared = Supervisor()

    private struct State {
        var children: [ChildProcess] = []
        var cleanupScripts: [String] = []
        var temporaryFolders: [String] = []
        var environment: [String: String] = [:]
        var closing = false
        var isSubreaper = false
        /// Processes that outlived SIGKILL at the end of a lesson (stuck in the kernel).
        var escaped: [pid_t] = []
        /// The crash guard's slots in use (see `sockettutor_guard_set`): one per running child.
        var guardSlots: [pid_t: Int32] = [:]
        var nextGuardSlot: Int32 = 0
    }

    private let state = Mutex(State())
    /// Held for the whole end of a lesson, so Ctrl-C during it waits for it instead of racing it.
    private let finishing = Mutex(())

    /// The signals that end a lesson: Ctrl-C, SIGTERM, and SIGHUP (the teacher's terminal closed;
    /// the children sit in their own process groups, so the terminal's hangup would not reach them).
    public static let endingSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Blocks the ending signals and starts the thread that answers them. Call first thing in
    /// main, before any other thread exists. A runner that cannot answer Ctrl-C would leave
    /// everything running when it is pressed, so failing to start that thread ends the program.
    public func handleTermination(onSignal report: @escaping @Sendable (Int32) -> Void) {
        Signals.block(Self.endingSignals)
        Signals.ignoreBrokenPipe()
        do {
            try Threads.detach { [self] in
                let signal = Signals.wait(for: Self.endingSignals)
                report(signal)
                stopEverything()
                Console.exit(128 + signal)
            }
        } catch {
            Console.error("lesson: cannot start the thread that answers Ctrl-C: \(error)")
            Console.exit(1)
        }
    }

    /// Records a started child; refuses (and stops it) once shutting down has begun.
    func adopt(_ child: ChildProcess) throws {
        let refused = state.withLock { state -> Bool in
            if !state.closing {
                state.children.append(child)
                // The crash guard: if this runner dies of a crash, the child's group dies with it.
                let slot = state.nextGuardSlot
                state.nextGuardSlot = (slot + 1) % 4096
                state.guardSlots[child.pid] = slot
                sockettutor_guard_set(slot, child.pid)
            }
            return state.closing
        }
        if refused {
            child.stop(grace: 1)
            throw LessonError.interrupted
        }
    }

    /// Whether shutting down has begun (Ctrl-C): the runner starts nothing new after that.
    public var isClosing: Bool {
        state.withLock { $0.closing }
    }

    /// Registers the lesson's cleanup scripts (and the environment to run them with).
    func setCleanup(_ scripts: [String], environment: [String: String]) {
        state.withLock {
            $0.cleanupScripts = scripts
            $0.environment = environment
        }
    }

    /// Registers a folder to delete when the lesson ends.
    func addTemporaryFolder(_ path: String) {
        state.withLock { $0.temporaryFolders.append(path) }
    }

    /// The processes that could not be stopped at the end of the last lesson (normally none).
    public var escapedProcesses: [pid_t] {
        state.withLock { $0.escaped }
    }

    /// Stops every child still running, newest first (a watcher before the server it watches,
    /// clients before servers).
    func stopChildren() {
        let running = state.withLock { state -> [ChildProcess] in
            defer { state.children = [] }
            return state.children
        }
        defer {
            state.withLock { state in
                for child in running { if let slot = state.guardSlots.removeValue(forKey: child.pid) { sockettutor_guard_set(slot, 0) } }
            }
        }
        // SIGTERM to every group at once, newest first, so a slow one does not delay the rest;
        // then each gets what is left of 3 seconds before SIGKILL.
        for child in running.reversed() where child.exitStatus == nil { Syscall.kill(-child.pid, SIGTERM) }
        for child in running.reversed() { child.stop(grace: 3) }
        // What left its group (setsid, a double fork) was handed to us as the subreaper. The
        // children stopped above are left to their own waiters, even one not reaped yet.
        let escaped = Descendants.stopAll(except: Set(running.map(\.pid)))
        if !escaped.isEmpty { state.withLock { $0.escaped += escaped } }
    }

    /// Makes this process the child subreaper once, before the first child starts, so that
    /// nothing a lesson starts can slip away to init.
    func becomeSubreaper() throws {
        try state.withLock { state in
            guard !state.isSubreaper else { return }
            try Descendants.becomeSubreaper()
            // A second guard beside the subreaper: a crash of the runner itself kills the
            // children's groups before the runner dies (the subreaper dies with it).
            sockettutor_guard_install()
            state.isSubreaper = true
        }
    }

    /// Runs the cleanup scripts (each bounded to 20 s). Also used before the first step.
    func runCleanup() {
        let (scripts, environment) = state.withLock { ($0.cleanupScripts, $0.environment) }
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
        state.withLock { $0.closing = true }
        finishLesson()
    }

    /// The end of a lesson, however it ended: children, cleanup scripts, temporary folders.
    public func finishLesson() {
        finishing.withLock { _ in
            stopChildren()
            runCleanup()
            let folders = state.withLock { state -> [String] in
                state.cleanupScripts = []
                defer { state.temporaryFolders = [] }
                return state.temporaryFolders
            }
            for folder in folders { try? FileManager.default.removeItem(atPath: folder) }
        }
    }
}
