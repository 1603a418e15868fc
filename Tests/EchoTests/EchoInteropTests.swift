import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// Programs we did not write, on either side of the connection.
@Suite("Echo interop")
struct EchoInteropTests {
    @Test("echo-client against socat's echo server (PIPE), 10 KiB byte for byte")
    func clientAgainstSocat() throws {
        let port = try closedPort()
        // -d -d makes socat report "listening on ..." once listen() returned: our readiness line.
        let socat = try ToolProcess("/usr/bin/socat", ["-d", "-d", "TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "PIPE"])
        defer { stopWithDescendants(socat) }
        _ = try socat.waitForLine(containing: "listening on", onStderr: true)
        let payload = try temporaryFile(bytes: 10 * 1024)
        let result = try runCommand("echo-client", ["--port", "\(port)", "--file", payload.path, "--quiet"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.last == "closing connection to the server")
        let words = try runCommand("echo-client", ["--port", "\(port)", "hello", "socat"], timeout: 120)
        #expect(words.status == 0)
        #expect(echoedText(words.stdout) == "hello socat")
        #expect(words.stdout.last == "closing connection to the server")
    }

    /// ncat relays between the socket and cat(1) through pipes, and with a large transfer its
    /// relay can block writing to cat while cat blocks writing back (measured here: 7 of 10 runs
    /// with 1 MiB hung, with python's socket module as the client too). 32 KiB fits the pipes.
    @Test("echo-client against ncat --exec /bin/cat, 32 KiB byte for byte and a short message")
    func clientAgainstNcat() throws {
        let port = try closedPort()
        let ncat = try ToolProcess("/usr/bin/ncat", ["-v", "-l", "-k", "127.0.0.1", "\(port)", "--exec", "/bin/cat"])
        defer { stopWithDescendants(ncat) }
        _ = try ncat.waitForLine(containing: "Listening on", onStderr: true)
        let payload = try temporaryFile(bytes: 32 * 1024)
        let result = try runCommand("echo-client", ["--port", "\(port)", "--file", payload.path, "--quiet",
                                                    "--recv-size", "4096"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let short = try runCommand("echo-client", ["--port", "\(port)", "--recv-size", "100", "hello ncat"], timeout: 120)
        #expect(short.status == 0, "\(short.stderr)")
        #expect(echoedText(short.stdout) == "hello ncat")
        #expect(short.stdout.last == "closing connection to the server")
    }

    @Test("echo-server driven by nc (netcat-openbsd), each mode", arguments: Mode.allCases)
    func serverDrivenByNetcat(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        // -N: shutdown(SHUT_WR) at the end of stdin, so the server sees FIN and nc sees the echo, then EOF.
        let result = try runCommand("/usr/bin/nc", ["-N", "127.0.0.1", "\(server.port)"],
                                    stdin: "hello from netcat\nsecond line\n", timeout: 120)
        #expect(result.status == 0)
        #expect(result.stdout == ["hello from netcat", "second line"])
    }

    @Test("echo-server driven by python3's socket module: sendall 1 MiB, half-close, read to EOF",
          arguments: Mode.allCases)
    func serverDrivenByPython(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let script = """
            import socket, sys, threading
            data = bytes(i * 7 % 251 for i in range(1 << 20))
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
            def send():
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            t = threading.Thread(target=send); t.start()
            got = bytearray()
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                got += chunk
            t.join(); s.close()
            print("ok" if bytes(got) == data else "mismatch %d" % len(got))
            """
        let result = try runCommand("/usr/bin/python3", ["-c", script, "\(server.port)"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == ["ok"])
    }
}

/// Stops a forking peer server (socat's `fork`, ncat's `-k --exec`) and every process it forked.
/// Their per-connection children hold the peer's stdout and stderr pipes; one left behind (ncat's
/// can outlive the connection, and ncat blocks SIGTERM) would keep the pipes open forever.
func stopWithDescendants(_ peer: ToolProcess) {
    for child in descendants(of: peer.pid) { kill(child, SIGKILL) }
    peer.signal(SIGKILL)
    _ = try? peer.waitForExit(timeout: 120)
}

/// Every process below `pid`, from /proc/PID/task/TID/children.
func descendants(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var found: [Int32] = []
    for task in tasks {
        let list = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
        for child in list.split(separator: " ").compactMap({ Int32($0) }) {
            found.append(child)
            found += descendants(of: child)
        }
    }
    return found
}
