@preconcurrency import Glibc
import HTTPServerKit
import SocketCore

/// `--serve [ADDR:]PORT`: the live view's web server, on a thread of its own, fed by a hub.
///
/// It is HTTPServerKit's epoll engine running `LiveViewHandler`: 100 browsers hold 100 open
/// event streams as 100 buffers, not 100 threads. A keep-alive thread writes a comment line to
/// every stream every 15 s, so an idle stream stays open (and a vanished browser is noticed).
/// A trimming thread looks every second: when streams ended during the last second and none
/// in this one (a burst of clients is over), it hands the freed memory back (`trimHeap`).
public final class LiveViewServer: Sendable {
    public let hub: EventHub
    /// The address listened on, with the real port when 0 was asked for.
    public let address: SocketAddress

    /// Environment variable that turns on the test hooks (`/_test/drop`).
    public static let testHooksVariable = "SOCKETTUTOR_LIVEVIEW_TEST_HOOKS"
    /// Seconds between keep-alive comments on an idle stream.
    public static let keepAliveSeconds: UInt32 = 15

    /// Binds and listens (bind() failed: EADDRINUSE... is thrown), then serves on other threads.
    public init(_ listen: ServeAddress, hub: EventHub) throws {
        self.hub = hub
        let testHooks = getenv(Self.testHooksVariable).map { String(cString: $0) == "1" } ?? false
        // Streams are never timed out; the timeout only bounds request heads and idle keep-alive.
        let server = try HTTPServer(host: listen.host, port: listen.port, timeout: 60) { socket, client in
            LiveViewHandler(socket: socket, clientAddress: client, hub: hub, testHooks: testHooks)
        }
        address = server.serverAddress
        EpollHTTPServer.raiseDescriptorLimit()
        let engine = try EpollHTTPServer(server, maxConnections: 4096)
        try Threads.detach { engine.serveForever() }
        try Threads.detach(stackSize: 64 * 1024) {
            while true {
                Syscall.sleep(seconds: Double(Self.keepAliveSeconds))
                hub.keepAlive()
            }
        }
        try Threads.detach(stackSize: 64 * 1024) {
            var ended = (before: 0, last: 0)
            while true {
                Syscall.sleep(seconds: 1)
                let now = engine.endedStreams
                if now == ended.last && ended.last != ended.before { Syscall.trimHeap() }
                ended = (ended.last, now)
            }
        }
    }

    /// Why `--serve` could not start: one line for the tool to print.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `--serve [ADDR:]PORT` of any tool: parses the address, binds, starts serving, and prints
    /// the readiness line on stderr. The one starter handshake-watch and the lesson runner share.
    public static func start(serving text: String, hub: EventHub) throws(StartError) -> LiveViewServer {
        guard let address = ServeAddress(text) else { throw StartError(description: "--serve takes [ADDR:]PORT, got \(text)") }
        do {
            let server = try LiveViewServer(address, hub: hub)
            Console.error(server.readinessLine)
            return server
        } catch {
            throw StartError(description: "--serve \(text): \(error)")
        }
    }

    /// `http://127.0.0.1:PORT/`, the URL the readiness line gives.
    public var url: String {
        let host = address.ip.contains(":") ? "[\(address.ip)]" : address.ip
        return "http://\(host):\(address.port)/"
    }

    /// The readiness line, on stderr: `serving the live view on http://127.0.0.1:PORT/`.
    public var readinessLine: String { "serving the live view on \(url)" }
}

/// `[ADDR:]PORT` of `--serve`: `8080`, `0` (any free port), `0.0.0.0:8080`, `[::1]:8080`.
/// The address defaults to 127.0.0.1: a classroom's projector view is not for the whole network
/// unless the teacher says so.
public struct ServeAddress: Sendable, Equatable {
    public let host: String
    public let port: Int

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `[ADDR:]PORT`; nil for anything else (the caller names the mistake).
    public init?(_ text: String) {
        var host = "127.0.0.1"
        var portText = Substring(text)
        if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty { return nil }
        }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.init(host: host, port: port)
    }
}
