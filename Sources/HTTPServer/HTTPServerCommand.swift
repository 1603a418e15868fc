@preconcurrency import Glibc
import ArgumentParser
import BuildInfo
import HTTPServerKit
import SocketCore

/// `python3 -m http.server`, re-created on the socket core: same flags, same banner, same log.
///
/// Reads top to bottom: parse the flags, open the folder, bind and listen, print the banner,
/// serve in the chosen mode on its own thread, and exit 0 on SIGINT or SIGTERM.
@main
struct HTTPServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-server",
        abstract: "Serve a folder over HTTP, like `python3 -m http.server`.",
        discussion: """
            Three servers, one handler: --mode iterative is Python's HTTPServer (one connection \
            at a time), threads is Python's ThreadingHTTPServer (a thread per connection), and \
            epoll (the default) waits for every connection in epoll(7) and runs handlers on a \
            few threads only once a request has arrived, so idle clients hold no thread. \
            Unlike Python, the default address is 127.0.0.1, so the folder is not \
            offered to the whole network by accident; use --bind 0.0.0.0 (IPv4) or --bind :: \
            (IPv6 and IPv4) for that.
            """,
        version: BuildInfo.versionLine)

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Address to bind(2) to: 127.0.0.1 (default, this machine only), 0.0.0.0 (all IPv4), :: (all IPv6 and IPv4).",
        valueName: "address"))
    var bind = "127.0.0.1"

    @Option(name: [.short, .long], help: ArgumentHelp("Serve this folder (default: the current one).", valueName: "directory"))
    var directory: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "HTTP/1.0 (default: close after each response) or HTTP/1.1 (keep-alive: several requests per connection).",
        valueName: "version"))
    var `protocol` = "HTTP/1.0"

    @Argument(help: ArgumentHelp("Port to bind(2) to; 0 lets the kernel pick a free one (default: 8000).", valueName: "port"))
    var positionalPort: Int?

    @Option(name: .customLong("port"), help: ArgumentHelp("Same as the positional port.", valueName: "port"))
    var portOption: Int?

    @Option(help: ArgumentHelp(
        "iterative: one connection at a time (Python's HTTPServer). threads: a thread per connection (Python's ThreadingHTTPServer). epoll: one epoll(7) loop for every connection, handlers on worker threads (default).",
        valueName: "mode"))
    var mode: ServerMode = .epoll

    @Flag(help: "Serve `hello world` from the short HelloHandler example instead of files.")
    var hello = false

    @Flag(help: "Also serve files that symbolic links lead to outside the folder (default: 404).")
    var followSymlinks = false

    @Flag(help: "Print every socket system call (socket, bind, listen, accept, epoll_wait, recv, send, sendfile) on stderr in the strace -tt -T convention: the time it started, the call, its arguments, result or errno, and how long it took, <seconds>. The write(2) of each stdout line is traced too.")
    var trace = false

    @Option(help: "Connections open at once (threads, epoll). Default: what the descriptor limit (RLIMIT_NOFILE, raised to its hard limit) allows, less a reserve. At the limit, epoll closes the oldest idle connection to admit a new one; threads leaves new clients in the listen(2) backlog.")
    var maxConnections: Int?

    @Option(help: "Seconds a client may stay silent (SO_RCVTIMEO, SO_SNDTIMEO), take to send a request head, or idle between requests.")
    var timeout = 20.0

    @Option(help: "epoll: seconds a request head that has begun may stall before the connection closes (nginx's client_header_timeout). Default: 10, or --timeout if smaller. At --max-connections such stalled heads are closed, oldest first, like idle connections, to admit new clients.")
    var headerTimeout: Double?

    func validate() throws {
        guard self.protocol == "HTTP/1.0" || self.protocol == "HTTP/1.1" else {
            throw ValidationError("--protocol must be HTTP/1.0 or HTTP/1.1, not \(self.protocol)")
        }
        if let positionalPort, portOption != nil {
            throw ValidationError("give the port once: either --port \(portOption!) or \(positionalPort), not both")
        }
        if let port = portOption ?? positionalPort, !(0...65535).contains(port) {
            throw ValidationError("the port must be in 0...65535, not \(port)")
        }
        // Upper bounds too: nanosecond deadlines are computed from these.
        if let maxConnections, !(1...1_000_000).contains(maxConnections) {
            throw ValidationError("--max-connections must be between 1 and 1000000")
        }
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be more than 0 and at most 86400 (a day)") }
        if let headerTimeout, !(headerTimeout > 0 && headerTimeout <= 86_400) {
            throw ValidationError("--header-timeout must be more than 0 and at most 86400 (a day)")
        }
    }

    func run() throws {
        Console.lineBuffered()
        Signals.ignoreBrokenPipe()
        Signals.blockTermination()   // before any thread starts: threads inherit the mask
        if trace { Trace.enable() }

        let port = portOption ?? positionalPort ?? 8000
        let folder = directory ?? currentDirectory()
        let served: ServedDirectory
        do {
            served = try ServedDirectory(path: Array(folder.utf8), followSymlinks: followSymlinks)
        } catch {
            Console.error("http-server: cannot serve \(folder): \(error)")
            throw ExitCode(1)
        }

        // One handler object per connection, as Python's server makes one per request.
        let version = self.protocol, hello = self.hello
        let makeHandler: HTTPServer.HandlerFactory = { socket, client in
            let handler: RequestHandler = hello
                ? HelloHandler(socket: socket, clientAddress: client)
                : FileRequestHandler(socket: socket, clientAddress: client, directory: served)
            handler.protocolVersion = version
            return handler
        }

        let descriptorLimit = EpollHTTPServer.raiseDescriptorLimit()
        let server: HTTPServer
        do {
            server = try HTTPServer(host: bind, port: port, timeout: timeout, makeHandler: makeHandler)
        } catch {
            Console.error("http-server: cannot listen on \(SocketAddress.hostPort(bind, port)): \(error)")
            throw ExitCode(1)
        }
        _ = MIMETypes.shared   // read /etc/mime.types now, not during the first request
        let connections = maxConnections ?? EpollHTTPServer.defaultMaxConnections(descriptorLimit: descriptorLimit)
        let serve: @Sendable () -> Void
        switch mode {
        case .iterative:
            serve = server.serveForever
        case .threads:
            serve = ThreadingHTTPServer(server, maxConnections: connections).serveForever
        case .epoll:
            do {
                serve = try EpollHTTPServer(server, maxConnections: connections, headerTimeout: headerTimeout).serveForever
            } catch {
                Console.error("http-server: cannot start epoll: \(error)")
                throw ExitCode(1)
            }
        }
        Console.line(server.banner)

        try Threads.detach { serve() }
        if Signals.waitForTermination() == SIGINT {
            Console.line("\nKeyboard interrupt received, exiting.")
        }
        throw ExitCode(0)
    }

    private func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}

/// The three servers `--mode` chooses from.
enum ServerMode: String, ExpressibleByArgument, CaseIterable {
    case iterative, threads, epoll
}
