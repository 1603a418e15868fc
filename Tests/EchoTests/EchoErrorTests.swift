import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// Runtime errors: one clear line on stderr naming the call and errno, exit 1.
@Suite("Echo errors")
struct EchoErrorTests {
    @Test("binding a port below 1024 as nobody: EACCES, exit 1", .enabled(if: Privileges.isRoot))
    func permissionDenied() throws {
        let server = try Privileges.toolForNobody("echo-server")
        defer { server.remove() }
        let result = try runCommand(server.path, ["--port", "80"], prefix: Privileges.asNobody, timeout: 120)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == ["echo-server: cannot listen on 127.0.0.1:80: bind() failed: EACCES (Permission denied)"])
    }

    @Test("a port already in use: EADDRINUSE, exit 1")
    func portInUse() throws {
        let holder = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? holder.close() }
        let port = try #require(holder.localAddress?.port)
        let result = try runCommand("echo-server", ["--port", "\(port)"], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr == ["echo-server: cannot listen on 127.0.0.1:\(port): bind() failed: EADDRINUSE (Address already in use)"])
    }

    @Test("a host that does not resolve: one getaddrinfo line, exit 1", arguments: ["echo-server", "echo-client"])
    func badHost(tool: String) throws {
        let result = try runCommand(tool, ["--host", "no-such-host.invalid", "--port", "5000", "--quiet"]
                                    + (tool == "echo-client" ? ["hi"] : []), timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.count == 1)
        let verb = tool == "echo-server" ? "listen on" : "connect to"
        #expect(result.stderr.first?.hasPrefix("\(tool): cannot \(verb) no-such-host.invalid:5000: getaddrinfo() failed: EAI_") == true,
                "\(result.stderr)")
    }

    @Test("connection refused: ECONNREFUSED, exit 1")
    func connectionRefused() throws {
        let port = try closedPort()
        let result = try runCommand("echo-client", ["--port", "\(port)", "hello"], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == ["echo-client: cannot connect to 127.0.0.1:\(port): connect() failed: ECONNREFUSED (Connection refused)"])
    }

    @Test("connection reset by the server: ECONNRESET, exit 1")
    func connectionReset() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let port = try #require(listener.localAddress?.port)
        let client = try ToolProcess("echo-client", ["--port", "\(port)", "--quiet", "hello"])
        let (accepted, _) = try listener.accept()
        _ = try accepted.recv(maxBytes: 5)
        try accepted.setLinger(seconds: 0)
        try accepted.close()   // RST instead of an echo
        #expect(try client.waitForExit(timeout: 120) == 1)
        #expect(client.stderr == ["echo-client: recv() failed: ECONNRESET (Connection reset by peer)"])
        try listener.close()
    }

    @Test("an echo that differs or stops short: exit 1 with the byte where it went wrong")
    func echoMismatch() throws {
        for (reply, expected) in [("HELLO", "echo-client: the echo differs from what was sent at byte 0"),
                                  ("hel", "echo-client: the server closed the connection after echoing 3 of 5 bytes")] {
            let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
            let port = try #require(listener.localAddress?.port)
            let client = try ToolProcess("echo-client", ["--port", "\(port)", "--quiet", "hello"])
            let (accepted, _) = try listener.accept()
            _ = try accepted.recv(maxBytes: 5)
            try accepted.sendAll(Array(reply.utf8))
            try accepted.close()
            #expect(try client.waitForExit(timeout: 120) == 1)
            #expect(client.stderr == [expected])
            try listener.close()
        }
    }

    @Test("bytes after the whole echo (sent once the client's FIN arrived) are caught: exit 1")
    func extraBytesAfterTheEcho() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? listener.close() }
        let port = try #require(listener.localAddress?.port)
        let client = try ToolProcess("echo-client", ["--port", "\(port)", "--recv-size", "5", "hello"])
        let (accepted, _) = try listener.accept()
        try accepted.setReceiveTimeout(seconds: 10)
        #expect(try accepted.recv(maxBytes: 5) == Array("hello".utf8))
        try accepted.sendAll(Array("hello".utf8))
        #expect(try accepted.recv(maxBytes: 1).isEmpty, "the client half-closes once the echo is back")
        try accepted.sendAll(Array("EXTRA".utf8))
        try accepted.close()
        #expect(try client.waitForExit(timeout: 120) == 1)
        #expect(client.stderr == ["echo-client: the server sent back more bytes than were sent (10 > 5)"])
    }

    @Test("a server that never closes after the client's FIN: the client still ends, exit 0")
    func serverThatKeepsTheConnectionOpen() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? listener.close() }
        let port = try #require(listener.localAddress?.port)
        let client = try ToolProcess("echo-client", ["--port", "\(port)", "--quiet", "hello"])
        let (accepted, _) = try listener.accept()
        defer { try? accepted.close() }
        _ = try accepted.recv(maxBytes: 5)
        try accepted.sendAll(Array("hello".utf8))
        #expect(try client.waitForExit(timeout: 120) == 0)
        #expect(client.stdout.last == "closing connection to the server")
    }

    @Test("--timeout: a server that accepts but never echoes ends the client with one line, exit 1")
    func silentServerTimesOut() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? listener.close() }
        let port = try #require(listener.localAddress?.port)
        let client = try ToolProcess("echo-client", ["--port", "\(port)", "--quiet", "--timeout", "0.5", "hello"])
        let (accepted, _) = try listener.accept()
        defer { try? accepted.close() }
        #expect(try client.waitForExit(timeout: 120) == 1)
        #expect(client.stderr == ["echo-client: timed out: nothing moved for 0.5 s (--timeout); 0 of 5 bytes echoed"])
    }

    @Test("--file that cannot be sent: missing, a folder, endless (/dev/zero): one line, exit 1")
    func unreadableFiles() throws {
        for (path, expected) in [("/nonexistent/file", "open() failed: ENOENT (No such file or directory)"),
                                 ("/tmp", "read() failed: EISDIR (Is a directory)"),
                                 ("/dev/zero", "read() failed: EFBIG (more than 268435456 bytes)")] {
            let result = try runCommand("echo-client", ["--port", "\(try closedPort())", "--file", path], timeout: 120)
            #expect(result.status == 1)
            #expect(result.stderr == ["echo-client: cannot read \(path): \(expected)"])
        }
    }

    @Test("bad flags are usage errors, not crashes")
    func usageErrors() throws {
        for (tool, arguments) in [("echo-server", ["--mode", "forks"]), ("echo-server", ["--buffer-size", "0"]),
                                  ("echo-client", ["--recv-size", "0", "x"]), ("echo-client", ["--port", "x"])] {
            let result = try runCommand(tool, arguments, timeout: 120)
            #expect(result.status == 64, "\(tool) \(arguments): \(result.stderr)")
            #expect(result.stderr.first?.hasPrefix("Error:") == true)
        }
    }
}
