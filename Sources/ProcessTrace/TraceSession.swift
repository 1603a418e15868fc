@preconcurrency import Glibc
import SocketCore
import Synchronization

/// A running tracer: the thread that owns the tracees, and the handles other threads use
/// (its feed of events, the traced sockets' addresses, a way to ask it to detach).
///
/// ptrace(2) belongs to the thread that seized: so the tracer thread itself forks COMMAND (or
/// seizes the `--pid` threads), and reports back through a pipe whether that worked, before
/// `start` returns.
public final class TraceSession: Sendable {
    /// What to trace.
    public enum Target: Sendable {
        /// Run a command (argv[0] looked up in PATH) under the tracer, with the seccomp filter.
        case command([String])
        /// Attach to running processes and every one of their threads.
        case processes([Int32])
    }

    public let feed = TraceFeed()
    public let sockets = TracedSockets()
    private let detachRequested = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)
    /// The processes attached with `--pid`: pid, command name, threads at the start.
    public var attached: [(pid: Int32, command: String, threads: Int)] { attachedNow.withLock { $0 } }
    private let attachedNow = Mutex<[(pid: Int32, command: String, threads: Int)]>([])
    /// COMMAND's pid once started (0 with `--pid`).
    public let commandPid = Atomic<Int32>(0)

    /// Why a start failed, as one line.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private init() {}

    /// Starts the tracer thread and waits until it has started COMMAND or attached to every
    /// process (or failed: the error says why, in one line).
    /// `callsInProgress`: report calls that have begun and not returned (text shows a long
    /// call's start at its place); off, the tracer does less per call.
    public static func start(_ target: Target, callsInProgress: Bool = true) throws(StartError) -> TraceSession {
        let session = TraceSession()
        let reader: Int32, writer: Int32
        do { (reader, writer) = try Syscall.pipe() } catch { throw StartError(description: "\(error)") }
        let outcome = Mutex<String?>(nil)
        installWakeHandler()
        do {
            try Threads.detach(stackSize: 1 << 20) {
                // SIGUSR1 must reach this thread even if our parent started us with it blocked.
                Syscall.unblock([SIGUSR1])
                session.thread.withLock { $0 = pthread_self() }
                defer { session.thread.withLock { $0 = nil } }   // no signal for a thread that has ended
                session.runTracer(target, callsInProgress: callsInProgress, reportStart: { problem in
                    outcome.withLock { $0 = problem }
                    _ = try? [UInt8(1)].withUnsafeBytes { try Syscall.write(writer, $0, traced: false) }
                    Syscall.closeQuietly(writer)
                })
            }
        } catch {
            Syscall.closeQuietly(reader); Syscall.closeQuietly(writer)
            throw StartError(description: "cannot start the tracer thread: \(error)")
        }
        var byte: [UInt8] = [0]
        _ = try? byte.withUnsafeMutableBytes { try Syscall.read(reader, into: $0, traced: false) }   // the start was reported
        Syscall.closeQuietly(reader)
        if let problem = outcome.withLock({ $0 }) { throw StartError(description: problem) }
        return session
    }

    /// The tracer thread's whole life.
    private func runTracer(_ target: Target, callsInProgress: Bool, reportStart: (String?) -> Void) {
        let tracer: Tracer
        switch target {
        case .command(let arguments):
            tracer = Tracer(mode: .command, feed: feed, sockets: sockets)
            tracer.reportsCallsInProgress = callsInProgress
            do {
                let pid = try tracer.spawn(arguments)
                commandPid.store(pid, ordering: .relaxed)
            } catch {
                reportStart(Self.explain(error, target: arguments.first ?? "", pid: nil))
                feed.finish()
                return
            }
        case .processes(let pids):
            tracer = Tracer(mode: .attach, feed: feed, sockets: sockets)
            tracer.reportsCallsInProgress = callsInProgress
            for pid in pids {
                do {
                    let threads = try tracer.attach(pid)
                    let name = (try? Syscall.readFile("/proc/\(pid)/comm", limit: 64)).map { String(decoding: $0, as: UTF8.self).filter { $0 != "\n" } } ?? "?"
                    attachedNow.withLock { $0.append((pid, name, threads)) }
                } catch {
                    reportStart(Self.explain(error, target: "", pid: pid))
                    tracer.run(shouldDetach: { true })   // leaves the ones already attached as they were
                    feed.finish()
                    return
                }
            }
        }
        reportStart(nil)
        tracer.run(shouldDetach: { detachRequested.load(ordering: .relaxed) })
        feed.finish()
    }

    /// Asks the tracer to detach from every thread and waits (up to `seconds`) until it has.
    /// The tracer may be blocked in waitpid(2): a SIGUSR1 to its thread interrupts that, sent
    /// again every 50 ms in case it came just before the tracer started waiting.
    public func detach(waitingUpTo seconds: Double = 5) {
        detachRequested.store(true, ordering: .relaxed)
        let deadline = Clock.monotonic() + seconds
        while !feed.isFinished && Clock.monotonic() < deadline {
            thread.withLock { thread in
                if let thread { pthread_kill(thread, SIGUSR1) }
            }
            Syscall.sleep(seconds: 0.05)
        }
    }

    /// SIGUSR1 with a handler that does nothing and no SA_RESTART: its only effect is that the
    /// tracer's waitpid(2) returns EINTR, so it looks at the detach request.
    private static func installWakeHandler() {
        Syscall.interruptOnly(SIGUSR1)
    }

    /// One line for a start that failed: ptrace refused (and why that may be), no such process.
    static func explain(_ error: Error, target: String, pid: Int32?) -> String {
        let errno = (error as? SocketError)?.errno
        let scope = (try? Syscall.readFile("/proc/sys/kernel/yama/ptrace_scope", limit: 16))
            .map { String(decoding: $0, as: UTF8.self).filter(\.isNumber) }
        if let pid {
            if errno == Errno(rawValue: ESRCH) { return "--pid \(pid): no such process" }
            if errno == Errno(rawValue: EPERM) {
                var line = "--pid \(pid): not allowed to trace it (ptrace: EPERM): it belongs to another user, or is protected"
                if let scope, scope != "0" {
                    line += "; kernel.yama.ptrace_scope is \(scope): run as root, or allow it with sudo sysctl kernel.yama.ptrace_scope=0"
                } else {
                    line += "; run as its user or as root"
                }
                return line
            }
            return "--pid \(pid): \(error)"
        }
        if errno == Errno(rawValue: EPERM) {
            var line = "cannot trace \(target): ptrace refused (EPERM)"
            if let scope, scope == "3" {
                line += "; kernel.yama.ptrace_scope is 3, which forbids all tracing until reboot"
            } else if let scope, scope != "0" {
                line += "; kernel.yama.ptrace_scope is \(scope): run as root, or sudo sysctl kernel.yama.ptrace_scope=1"
            } else {
                line += "; in a container, ptrace may be blocked by its seccomp profile (docker run --cap-add SYS_PTRACE)"
            }
            return line
        }
        return "cannot trace \(target): \(error)"
    }
}
