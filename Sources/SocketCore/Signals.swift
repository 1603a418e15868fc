@preconcurrency import Glibc

/// The two signals a socket program has to decide about.
///
/// - SIGPIPE: the kernel raises it when we write to a connection the peer has closed, and its
///   default action kills the process (exit status 141). A server must never die because a client
///   left, so `ignoreBrokenPipe()` ignores it; writes then fail with EPIPE, which we handle.
///   (`Syscall.send` also passes MSG_NOSIGNAL; ignoring covers sendfile() and write() too.)
/// - SIGINT (Ctrl-C) and SIGTERM: we want to close the listening socket and exit 0. Handlers run
///   at awkward moments, so instead `blockTermination()` blocks both in every thread, and one
///   thread waits for them with sigwait(), as ordinary code. Blocking must happen before any
///   thread starts, since threads inherit the signal mask.
public enum Signals {
    /// SIGINT (Ctrl-C) and SIGTERM: "please stop".
    public static let termination: [Int32] = [SIGINT, SIGTERM]

    /// Every signal whose default action ends the process, but SIGKILL and SIGSTOP (which cannot
    /// be caught) and the ones the kernel sends for a bug in the process itself (SIGSEGV, SIGBUS,
    /// SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS). A tool that holds state outside itself (a tracefs
    /// instance, a network namespace) waits for all of these, so that it cleans up on each.
    public static let endingByDefault: [Int32] = [
        SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
        SIGXCPU, SIGXFSZ, SIGIO,
    ]

    /// SIG_IGN for SIGPIPE: a vanished client becomes an EPIPE error, not a dead server.
    public static func ignoreBrokenPipe() {
        Syscall.ignore(SIGPIPE)
    }

    /// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards.
    public static func blockTermination() {
        Syscall.block(termination)
    }

    /// Blocks SIGHUP too (a closed terminal): for a program that must clean up on it as on
    /// SIGTERM, and reads all three from a signalfd (`Syscall.terminationSignalDescriptor`).
    public static func blockTerminationAndHangup() {
        Syscall.block(termination + [SIGHUP])
    }

    /// Waits until SIGINT or SIGTERM arrives and returns which (call after `blockTermination`).
    @discardableResult
    public static func waitForTermination() -> Int32 {
        Syscall.waitForSignal(termination)
    }

    /// Blocks `signals` in the calling thread and every thread it starts afterwards (call before
    /// any thread starts), so that `wait(for:)` can take them as ordinary code.
    public static func block(_ signals: [Int32]) {
        Syscall.block(signals)
    }

    /// Waits until one of `signals` (blocked with `block`) arrives and returns which.
    public static func wait(for signals: [Int32]) -> Int32 {
        Syscall.waitForSignal(signals)
    }
}
