import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// The classic programs make exactly the classic calls: checked with strace(1), which sees every
/// system call the process makes, not only those our `--trace` reports.
@Suite("Echo under strace", .enabled(if: Strace.isInstalled))
struct EchoStraceTests {
    @Test("echo-client --blocking: socket, connect, sendto..., recvfrom(10)..., close; no poll, no fcntl")
    func blockingClientCalls() throws {
        let server = try RunningServer.start(.iterative)
        defer { _ = try? server.stop() }
        let log = Strace.logPath()
        let message = "Hello, world of sockets, the classic way"
        let result = try runCommand("/usr/bin/strace", ["-f", "-qq", "-o", log, ToolProcess.path(of: "echo-client"),
                                                        "--blocking", "--port", "\(server.port)", message], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(echoedText(result.stdout) == message)

        let calls = try Strace.callsOnSocket(in: log)
        #expect(calls.first?.name == "connect", "\(calls)")
        #expect(calls.last?.name == "close", "\(calls)")
        let middle = calls.dropFirst().dropLast().map(\.name)
        let sends = middle.prefix { $0 == "sendto" }
        #expect(!sends.isEmpty && middle.dropFirst(sends.count).allSatisfy { $0 == "recvfrom" }, "\(calls)")
        let receives = calls.filter { $0.name == "recvfrom" }
        #expect(receives.count >= (message.utf8.count + 9) / 10)
        #expect(receives.allSatisfy { $0.line.contains(", 10, ") }, "each recv() asks for 10 bytes")
        let everything = try Strace.callsBetweenSocketAndClose(in: log)
        #expect(!everything.contains { ["poll", "ppoll", "fcntl", "shutdown", "select", "pselect6"].contains($0) },
                "\(everything)")
    }

    @Test("echo-server --mode select waits in select(2), never poll(2) or epoll")
    func selectServerCalls() throws {
        let log = Strace.logPath()
        let server = try ToolProcess("/usr/bin/strace", ["-f", "-qq", "-o", log, ToolProcess.path(of: "echo-server"),
                                                         "--port", "0", "--mode", "select", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening", timeout: 120)
        let running = RunningServer(process: server, port: port)
        #expect(try running.echoOnce("one") == "one")
        #expect(try running.echoOnce("two") == "two")
        // SIGTERM to the server itself: strace, signalled, would detach and leave it running.
        let tracee = try #require(Strace.child(of: server.pid))
        kill(tracee, SIGTERM)
        #expect(try server.waitForExit(timeout: 120) == 0, "strace exits with the server's status")

        let names = Set(try Strace.calls(in: log).map(\.name))
        #expect(names.contains("select") || names.contains("pselect6"), "\(names.sorted())")
        #expect(names.isDisjoint(with: ["poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2",
                                        "epoll_create1", "epoll_ctl"]), "\(names.sorted())")
    }

    @Test("select mode: a descriptor past FD_SETSIZE is closed with one line, and the server carries on")
    func selectTurnsAwayHighDescriptors() throws {
        Strace.raiseDescriptorLimit(to: 4096)
        let server = try ToolProcess("echo-server", ["--port", "0", "--mode", "select", "--quiet", "--backlog", "128"],
                                     prefix: ["prlimit", "--nofile=4096:4096", "--"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening", timeout: 120)
        var holders: [Socket] = []
        defer { for holder in holders { try? holder.close() } }
        for _ in 0..<1050 { holders.append(try Socket.connected(host: "127.0.0.1", port: port)) }
        let line = try server.waitForLine(containing: "select() cannot watch fd", onStderr: true, timeout: 120)
        #expect(line.wholeMatch(of: /echo-server: select\(\) cannot watch fd 10\d\d \(FD_SETSIZE 1024\): use --mode poll/) != nil,
                "\(line)")
        for holder in holders { try holder.close() }
        holders.removeAll()
        let running = RunningServer(process: server, port: port)
        #expect(try running.echoOnce("carries on") == "carries on")
    }
}

/// Reading strace's output (`strace -f -o FILE`: each line `PID name(args) = result`).
enum Strace {
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") }

    struct Call: CustomStringConvertible {
        let name: String
        let line: String
        var description: String { line }
    }

    /// A fresh file name for one trace.
    static func logPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("strace-\(UUID().uuidString).log").path
    }

    /// Every completed call in the log, in order (`<unfinished ...>` halves are skipped: with
    /// -f, the call is shown again as `<... name resumed>`, which is skipped too).
    static func calls(in path: String) throws -> [Call] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { raw in
            var line = raw.drop { $0.isNumber }.drop { $0 == " " }
            if line.hasPrefix("<...") || line.hasPrefix("+++") || line.hasPrefix("---") { return nil }
            guard let open = line.firstIndex(of: "(") else { return nil }
            let name = String(line[..<open])
            line = line[open...]
            return Call(name: name, line: name + line)
        }
    }

    /// The calls from the TCP socket() to the close() of its descriptor, on that descriptor only.
    static func callsOnSocket(in path: String) throws -> [Call] {
        let all = try calls(in: path)
        guard let (start, fd) = socketCall(all) else { return [] }
        var found: [Call] = []
        for call in all[(start + 1)...] where call.line.hasPrefix("\(call.name)(\(fd),") || call.line.hasPrefix("\(call.name)(\(fd))") {
            found.append(call)
            if call.name == "close" { break }
        }
        return found
    }

    /// The names of every call (on any descriptor) between the socket() and its close().
    static func callsBetweenSocketAndClose(in path: String) throws -> [String] {
        let all = try calls(in: path)
        guard let (start, fd) = socketCall(all) else { return [] }
        let end = all[(start + 1)...].firstIndex { $0.line.hasPrefix("close(\(fd))") } ?? all.endIndex
        return all[(start + 1)..<end].map(\.name)
    }

    private static func socketCall(_ calls: [Call]) -> (Int, Int)? {
        guard let index = calls.firstIndex(where: { $0.name == "socket" && $0.line.contains("SOCK_STREAM") }),
              let fd = Int(calls[index].line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces) ?? "")
        else { return nil }
        return (index, fd)
    }

    /// The process strace started (its only child).
    static func child(of pid: Int32) -> Int32? {
        let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
        return children?.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// Raises this process's soft descriptor limit (holding 1050 client sockets needs it).
    static func raiseDescriptorLimit(to wanted: rlim_t) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}
