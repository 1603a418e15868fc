import ArgumentParser
import BuildInfo
import SocketCore

/// echo-client: sends a message to an echo server and reads it back in small chunks.
///
/// Top to bottom: parse the flags, connect (socket → connect), then one of four jobs:
/// echo a message (or a file) and check it byte for byte (`EchoExchange`; with `--blocking`,
/// the classic walkthrough's calls exactly: `BlockingExchange`), relay stdin like netcat, or
/// measure a server with `--load`.
@main
struct EchoClient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-client",
        abstract: "A TCP echo client: sends a message and checks that every byte comes back.",
        discussion: """
            With MESSAGE or --file: send it, read the echo in --recv-size chunks, exit 0 only if it \
            matches byte for byte. With no MESSAGE (or -): send each line of stdin and print what \
            comes back, like netcat. With --blocking: the classic blocking client, call for call. With --load: measure round trips per second, and each connection's latency.
            """,
        version: BuildInfo.versionLine)

    @Option(help: "The server's address: an IPv4 or IPv6 literal, or a host name (getaddrinfo(3)).")
    var host = "127.0.0.1"

    @Option(help: "The server's TCP port, for connect(2).")
    var port = 5000

    @Option(help: "Bytes asked of each recv(2) call: the echo comes back in chunks of at most this size.")
    var recvSize = 10

    @Option(help: "Send this file's bytes instead of MESSAGE (argv cannot carry 10 MiB); at most 256 MiB.")
    var file: String?

    @Option(help: "Seconds to wait for connect(2) (SO_SNDTIMEO) and then for each next piece of the echo (the poll(2) timeout) before giving up with exit 1. 0: wait as long as the kernel does.")
    var timeout: Double = 0

    @Flag(help: "Print a one-line summary instead of each received chunk.")
    var quiet = false

    @Flag(help: "The classic client, call for call: socket, connect, sendall() (blocking send(2) in a loop), recv(2) of --recv-size bytes until every byte is back, close. No poll(2), no O_NONBLOCK, no half-close: a message bigger than the buffers between client and server deadlocks it (until --timeout).")
    var blocking = false

    @Flag(help: "Print every system call on stderr in the strace -tt -T convention: the time it started, the call, its arguments, result or errno, and how long it took, <seconds>. The write(2) of each stdout line is traced too.")
    var trace = false

    @Flag(help: "Measure the server: ping-pong round trips over --connections sockets for --duration seconds. Prints a line per connection (round trips and latency, or `never served`), then the totals with `served: K of N connections`.")
    var load = false

    @Option(help: "With --load: how many connections, each on its own thread.")
    var connections = 1

    @Option(help: "With --load: how many seconds to run.")
    var duration: Double = 5

    @Option(help: "With --load: bytes per message (at most 262144).")
    var size = 64

    @Flag(help: "With --load: stream instead of ping-pong (send and receive at once, with poll(2)); reports MB/s.")
    var stream = false

    @Argument(help: "The message to send (words are joined with spaces). None, or -: relay stdin to the server and its answers to stdout, like netcat; at the end of stdin, shutdown(2) SHUT_WR.")
    var message: [String] = []

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...(64 << 20)).contains(recvSize) else { throw ValidationError("--recv-size must be in 1...67108864") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be in 1...10000") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be more than 0 and at most 86400") }
        guard (1...LoadGenerator.maximumSize).contains(size) else {
            throw ValidationError("--size must be in 1...\(LoadGenerator.maximumSize)")
        }
        guard timeout >= 0, timeout <= 86_400 else { throw ValidationError("--timeout must be in 0...86400") }
        guard file == nil || message.isEmpty else { throw ValidationError("give MESSAGE or --file, not both") }
        if blocking {
            guard !load else { throw ValidationError("--blocking and --load cannot be combined") }
            guard file != nil || (!message.isEmpty && message != ["-"]) else {
                throw ValidationError("--blocking sends MESSAGE or --file: give one")
            }
        }
    }

    func run() throws {
        Console.lineBuffered()
        if trace { Trace.enable() }
        Signals.ignoreBrokenPipe()
        let server = SocketAddress.hostPort(host, port)

        if load {
            let generator = LoadGenerator(host: host, port: port, connections: connections,
                                          duration: duration, size: size, stream: stream)
            let report = try orFail("load on \(server)") { try generator.run() }
            for line in report.lines { Console.line(line) }
            if report.errors > 0 { throw ExitCode.failure }
            return
        }

        var bytes: [UInt8]? = nil
        if let file {
            bytes = try orFail("cannot read \(file)") { try Syscall.readFile(file, limit: 256 << 20) }
        } else if !message.isEmpty && message != ["-"] {
            bytes = Array(message.joined(separator: " ").utf8)
        }

        let socket = try orFail("cannot connect to \(server)") { try Socket.connected(host: host, port: port, timeout: timeout > 0 ? timeout : nil) }
        if let bytes, blocking {
            let exchange = BlockingExchange(socket: socket, server: "\(server)", message: bytes, recvSize: recvSize,
                                            quiet: quiet, timeout: timeout)
            try orFail { try exchange.run() }
        } else if let bytes {
            let exchange = EchoExchange(socket: socket, message: bytes, recvSize: recvSize, quiet: quiet,
                                        timeout: timeout)
            try orFail { try exchange.run() }
        } else {
            try orFail { try InteractiveSession(socket: socket, recvSize: recvSize).run() }
        }
        try? socket.close()
    }

    /// Runs `body`; a failure becomes one line on stderr (`echo-client: context: error`) and exit 1.
    private func orFail<T>(_ context: String? = nil, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            Console.error("echo-client: " + (context.map { "\($0): " } ?? "") + "\(error)")
            throw ExitCode.failure
        }
    }
}

/// A failure the client found itself (not a system call's): the echo differs, or ended early.
struct EchoMismatch: Error, CustomStringConvertible {
    let description: String
}
