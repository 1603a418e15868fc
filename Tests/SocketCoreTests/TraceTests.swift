import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// `--trace`: one line per system call on stderr, `HH:MM:SS.uuuuuu call(args) -> result`.
/// Tracing is process-wide, so these tests read it from the tools' stderr rather than turning it
/// on inside the test process.
@Suite("Trace")
struct TraceTests {
    @Test("time of day is local HH:MM:SS with six digits of microseconds")
    func timeOfDayFormat() {
        let now = time(nil)
        var parts = tm()
        var t = now
        localtime_r(&t, &parts)
        let text = Trace.timeOfDay(seconds: now, microseconds: 42)
        #expect(text == String(format: "%02d:%02d:%02d.000042", parts.tm_hour, parts.tm_min, parts.tm_sec))
        #expect(Trace.timeOfDay(seconds: now, microseconds: 999_999).hasSuffix(".999999"))
        #expect(Trace.timestamp().wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6}/) != nil)
    }

    @Test("echo-server and echo-client --trace show socket, bind, listen, connect, accept with fds and addresses")
    func toolsTraceTheirCalls() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--trace", "--quiet", "--mode", "threads"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let client = try runCommand("echo-client", ["--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(client.status == 0)
        let clientPort = try #require(client.stdout.first?.split(separator: ":").last.flatMap { Int($0) })

        let accept = try server.waitForLine(containing: "accept(", onStderr: true)
        let stamp = /\d\d:\d\d:\d\d\.\d{6}/
        let acceptPattern = try Regex(#"\d\d:\d\d:\d\d\.\d{6} accept\(fd (\d+)\) -> fd \d+ from 127\.0\.0\.1:"# + "\(clientPort)")
        let match = try #require(accept.wholeMatch(of: acceptPattern), "\(accept)")
        let listenFD = String(try #require(match.output[1].substring))

        let lines = server.stderr
        let expected = [
            "socket(AF_INET, SOCK_STREAM) -> fd \(listenFD)",
            "setsockopt(fd \(listenFD), SO_REUSEADDR, 1) -> 0",
            "bind(fd \(listenFD), 127.0.0.1:0) -> 0",
            "listen(fd \(listenFD), backlog 5) -> 0",
        ]
        let calls = lines.map { String($0.drop { $0 != " " }.dropFirst()) }
        #expect(Array(calls.prefix(4)) == expected)
        #expect(lines.allSatisfy { $0.prefixMatch(of: stamp) != nil }, "every line starts with the time of day")
        #expect(isNow(lines[0]), "the time of day is now: \(lines[0])")

        let clientCalls = client.stderr.map { String($0.drop { $0 != " " }.dropFirst()) }
        #expect(clientCalls.contains { $0.wholeMatch(of: /connect\(fd \d+, 127\.0\.0\.1:\d+\) -> 0/) != nil }, "\(clientCalls)")
        #expect(clientCalls.contains { $0.wholeMatch(of: /send\(fd \d+, 2 bytes\) -> 2/) != nil })
        #expect(clientCalls.contains { $0.wholeMatch(of: /close\(fd \d+\) -> 0/) != nil })
    }

    @Test("a failing call is traced with errno's name and text")
    func failureIsTraced() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let port = try #require(listener.localAddress?.port)
        try listener.close()
        let client = try runCommand("echo-client", ["--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(client.status == 1)
        #expect(client.stderr.contains { $0.wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6} connect\(fd \d+, 127\.0\.0\.1:\d+\) -> ECONNREFUSED \(Connection refused\)/) != nil },
                "\(client.stderr)")
        #expect(client.stderr.last == "echo-client: cannot connect to 127.0.0.1:\(port): connect() failed: ECONNREFUSED (Connection refused)")

        let named = try runCommand("echo-client", ["--host", "localhost", "--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(named.stderr.first?.wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6} getaddrinfo\("localhost", \d+\) -> .*127\.0\.0\.1.*/) != nil,
                "\(named.stderr)")
        let unknown = try runCommand("echo-client", ["--host", "no-such-host.invalid", "--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(unknown.stderr.first?.contains(#"getaddrinfo("no-such-host.invalid", "# + "\(port)) -> EAI_") == true, "\(unknown.stderr)")
    }

    /// True when a trace line's HH:MM:SS is within a minute of the local time now.
    private func isNow(_ line: String) -> Bool {
        let fields = line.prefix(8).split(separator: ":").compactMap { Int($0) }
        guard fields.count == 3 else { return false }
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        let secondsNow = Int(parts.tm_hour) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec)
        let secondsThen = fields[0] * 3600 + fields[1] * 60 + fields[2]
        let difference = abs(secondsNow - secondsThen)
        return min(difference, 86_400 - difference) < 60
    }
}

@Suite("Console")
struct ConsoleTests {
    @Test("bytes print as Python's b'...' literal, escaped, shortened past the limit")
    func bytesLiteral() {
        #expect(Console.bytesLiteral(Array("hello\n".utf8)) == "b'hello\\n'")
        #expect(Console.bytesLiteral([0x00, 0xFF, 0x27, 0x5C]) == "b'\\x00\\xff\\'\\\\'")
        #expect(Console.bytesLiteral([UInt8](repeating: 0x61, count: 100), limit: 4) == "b'aaaa'... (100 bytes)")
    }
}
