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
    /// SIG_IGN for SIGPIPE: a vanished client becomes an EPIPE error, not a dead server.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards.
    public static func blockTermination() {
        var set = terminationSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks SIGHUP too (a closed terminal): for a program that must clean up on it as on
    /// SIGTERM, and reads all three from a signalfd (`Syscall.terminationSignalDescriptor`).
    public static func blockTerminationAndHangup() {
        var set = terminationSet()
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits until SIGINT or SIGTERM arrives and returns which (call after `blockTermination`).
    @discardableResult
    public static func waitForTermination() -> Int32 {
        var set = terminationSet()
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    private static func terminationSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }
}
