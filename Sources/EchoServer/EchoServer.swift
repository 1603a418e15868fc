import ArgumentParser
import BuildInfo
import SocketCore
import Synchronization

/// echo-server: sends back every byte it receives, the "hello world" of socket programming.
///
/// Reads top to bottom like the lesson: parse the flags, open the listening socket
/// (socket → setsockopt(SO_REUSEADDR) → bind → listen), print the readiness line, serve
/// in the chosen mode on its own thread, and exit 0 when SIGINT or SIGTERM arrives.
@main
struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "A TCP echo server: every byte a client sends comes back.",
        discussion: """
            Prints `server start, listening HOST:PORT` once listen(2) returned (with the real port \
            when --port is 0), then one line per recv(2) and send(2) of each connection.
            """,
        version: BuildInfo.versionLine)

    @Option(help: "The address to bind(2) to: an IPv4 or IPv6 literal, or a host name (getaddrinfo(3)).")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to bind(2) to; 0 asks the kernel for a free one (the start line shows it).")
    var port = 5000

    @Option(help: "The listen(2) backlog: how many completed handshakes the kernel queues for accept(2).")
    var backlog: Int32 = 5

    @Option(help: "Bytes asked of each recv(2) call: the size of the server's read buffer.")
    var bufferSize = 2048

    @Option(help: "iterative: one client at a time, accept(2) then recv(2)/send(2) until it closes. threads: a thread per connection. select: one thread waiting on every socket with select(2) (descriptors below FD_SETSIZE, 1024, only). poll: one thread multiplexing every socket with poll(2), buffering the echo of clients that do not read.")
    var mode: ServerMode = .iterative

    @Option(help: "Seconds to sleep before each accept(2): the kernel completes handshakes meanwhile.")
    var acceptDelay: Double = 0

    @Option(help: "SO_SNDTIMEO on each client socket (iterative, threads and select modes): a client that reads nothing for this many seconds while its echo waits is dropped, instead of holding the server in send(2) forever. 0: wait forever.")
    var sendTimeout: Double = 10

    @Flag(help: "Print only the start line and errors.")
    var quiet = false

    @Flag(help: "Print every system call on stderr in the strace -tt -T convention: the time it started, the call, its arguments, result or errno, and how long it took, <seconds>. The write(2) of each stdout line is traced too.")
    var trace = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...(64 << 20)).contains(bufferSize) else { throw ValidationError("--buffer-size must be in 1...67108864") }
        guard backlog >= 0 else { throw ValidationError("--backlog must be 0 or more") }
        guard acceptDelay >= 0, acceptDelay.isFinite else { throw ValidationError("--accept-delay must be 0 or more") }
        guard sendTimeout >= 0, sendTimeout <= 86_400 else { throw ValidationError("--send-timeout must be in 0...86400") }
    }

    func run() throws {
        Console.lineBuffered()
        if trace { Trace.enable() }
        Signals.ignoreBrokenPipe()
        Signals.blockTermination()   // before any thread starts: threads inherit the signal mask

        let listener = try fail("cannot listen on \(SocketAddress.hostPort(host, port))") {
            try Socket.listening(host: host, port: port, backlog: backlog)
        }
        Console.line("server start, listening \(listener.localAddress.map { "\($0)" } ?? "\(host):\(port)")")

        let settings = EchoSettings(bufferSize: bufferSize, acceptDelay: acceptDelay, sendTimeout: sendTimeout,
                                    log: EchoLog(quiet: quiet))
        let mode = self.mode
        try fail("cannot start the server thread") {
            try Threads.detach { EchoServer.serve(mode, listener, settings) }
        }

        Signals.waitForTermination()
        Shutdown.started.store(true, ordering: .releasing)
        try? listener.close()
        Console.exit(0)
    }

    /// The server loop of `mode`, on its own thread, until the process ends.
    private static func serve(_ mode: ServerMode, _ listener: Socket, _ settings: EchoSettings) {
        do {
            switch mode {
            case .iterative: try IterativeServer(listener: listener, settings: settings).run()
            case .threads: try ThreadedServer(listener: listener, settings: settings).run()
            case .select: try SelectServer(listener: listener, settings: settings).run()
            case .poll: try PollServer(listener: listener, settings: settings).run()
            }
        } catch {
            // accept() on the listening socket that main has just closed is the shutdown
            // itself, not an error to report.
            if Shutdown.started.load(ordering: .acquiring) { return }
            Console.error("echo-server: \(error)")
            Console.exit(1)
        }
    }

    /// Runs `body`; a failure becomes one line on stderr (`echo-server: context: error`) and exit 1.
    private func fail<T>(_ context: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            Console.error("echo-server: \(context): \(error)")
            throw ExitCode.failure
        }
    }
}

/// Set once SIGINT or SIGTERM has arrived.
enum Shutdown {
    static let started = Atomic<Bool>(false)
}

/// The ways to serve many clients that the lessons compare, in the order they show them.
enum ServerMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case iterative, threads, select, poll
}

/// What every mode needs besides the listening socket.
struct EchoSettings: Sendable {
    /// Bytes per recv(2).
    let bufferSize: Int
    /// Seconds to sleep before each accept(2).
    let acceptDelay: Double
    /// Seconds a blocking send(2) may make no progress before the client is dropped (0: forever).
    let sendTimeout: Double
    let log: EchoLog

    /// The `--accept-delay` pause: connections keep completing in the kernel while we sleep.
    func pauseBeforeAccept() {
        guard acceptDelay > 0 else { return }
        // Syscall.sleep is nanosleep(2), on again for the rest after a signal; a day at a time,
        // so any delay, "forever" included, is slept without overflowing a timespec.
        var left = min(acceptDelay, 1e9)
        while left > 0 {
            Syscall.sleep(seconds: min(left, 86_400))
            left -= 86_400
        }
    }
}

