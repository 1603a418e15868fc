import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport
import Timeline

/// handshake-watch tracing real programs: the walkthrough's Python pair under `-- sh -c`, a
/// threaded server, `--pid` attach and detach, exit statuses, and a run without privileges.
/// Everything is read from the JSON the watcher printed, as a student's tool would read it.
@Suite("ProcessTraceLive", .live, .serialized, .enabled(if: Privileges.canCapture, "live capture needs root or CAP_NET_RAW"))
struct TraceLiveTests {
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    static var examples: String { packageRoot.appendingPathComponent("examples/python").path }

    /// A shell line that starts server.py on a free port in the background, waits (bounded) for
    /// its readiness line, then runs `client` with `$port` set.
    static func pair(server: String, client: String) -> String {
        """
        f=$(mktemp); \(python) \(server) 0 > "$f" & i=0; \
        until grep -q listening "$f"; do i=$((i+1)); [ $i -gt 6000 ] && exit 99; sleep 0.02; done; \
        port=$(sed 's/.*://' "$f"); rm -f "$f"; \(client)
        """
    }

    /// The walkthrough's Python pair run under `handshake-watch --format FORMAT -- sh -c ...`,
    /// waited for; its exit status (COMMAND's) checked.
    static func watchPythonPair(format: String) throws -> ToolProcess {
        let script = pair(server: "\(examples)/server.py", client: "\(python) \(examples)/client.py $port")
        let watch = try ToolProcess("handshake-watch", ["--format", format, "--", "sh", "-c", script])
        let status = try watch.waitForExit(timeout: 120)
        #expect(status == 0, "COMMAND's status: \(watch.stderr)")
        return watch
    }

    /// The JSON objects a watcher printed (the programs' own lines, also on stdout, skipped).
    static func events(_ lines: [String]) -> [TimelineEvent] {
        lines.map(unglued).compactMap { $0.hasPrefix("{") ? try? TimelineEvent(jsonLine: $0) : nil }
    }

    /// A line of the watcher's as it was written. The programs share its stdout, and Python's
    /// print() writes its text and its newline in two write(2) calls: a line of ours can land
    /// between them (as strace's does on a shared terminal), after the program's text.
    static func unglued(_ line: String) -> String {
        guard let ours = line.firstMatch(of: /(#\d+)? +\d+\.\d{3} ms |\{"/) else { return line }
        return String(line[ours.range.lowerBound...])
    }

    static func calls(_ events: [TimelineEvent], _ name: String) -> [TimelineEvent] {
        events.filter { $0.type == "syscall" && $0.string("call") == name }
    }

    @Test("the Python pair under -- sh -c: connect() spans the handshake, accept() returns after it, closes precede their FINs")
    func pythonPairSpans() throws {
        let watch = try Self.watchPythonPair(format: "json")
        let events = Self.events(watch.stdout)

        let connect = try #require(Self.calls(events, "connect").first { $0.string("remote") == "127.0.0.1" && $0.int("result") == 0 },
                                   "\(watch.stdout.suffix(30))")
        let clientPort = try #require(connect.int("lport"))
        let serverPort = try #require(connect.int("rport"))
        let packets = events.filter { $0.type == "packet" && ($0.int("sport") == clientPort || $0.int("dport") == clientPort) }
        func first(_ step: String) throws -> EpochTime { try #require(packets.first { $0.string("step") == step }, "\(step)").time }
        let syn = try first("handshake-syn"), synAck = try first("handshake-syn-ack"), ack = try first("handshake-ack")
        let flags = { (event: TimelineEvent) in event["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let clientFin = try #require(packets.first { flags($0).contains("FIN") && $0.int("sport") == clientPort }).time
        let serverFin = try #require(packets.first { flags($0).contains("FIN") && $0.int("dport") == clientPort }).time

        // Issue 8's guarantees, from the stamps at the tracer's stops (whole microseconds: a
        // return may be cut by the 1 µs its start lost).
        #expect(connect.time <= syn, "connect() starts before the SYN")
        #expect(connect.time <= synAck && connect.end.microseconds + 1 >= ack.microseconds, "connect() spans SYN, SYN-ACK and ACK")
        let accept = try #require(events.first { $0.type == "syscall" && ($0.string("call") ?? "").hasPrefix("accept")
                                                    && $0.int("rport") == clientPort },
                                  "the accept() of port \(clientPort) among: \(events.filter { ($0.string("call") ?? "").hasPrefix("accept") }.map(\.jsonLine))\n\(watch.stderr)")
        #expect(accept.end.microseconds + 1 >= ack.microseconds, "accept() returns after the handshake's ACK")
        let serverFD = try #require(accept.int("result"))
        let clientClose = try #require(Self.calls(events, "close").first { $0.int("lport") == clientPort })
        #expect(clientClose.time <= clientFin, "the client's close() starts before its FIN")
        let serverEOF = try #require(Self.calls(events, "recvfrom").first { $0.int("fd") == serverFD && $0.int("result") == 0 })
        #expect(serverEOF.end.microseconds + 1 >= clientFin.microseconds, "the server's recv() -> 0 returns after the client's FIN")
        let serverClose = try #require(Self.calls(events, "close").first { $0.int("fd") == serverFD && $0.int("lport") == serverPort })
        #expect(serverClose.time <= serverFin, "the server's close() starts before its FIN")

        // The walkthrough's calls, as the kernel sees them: sendall() is sendto(), recv(10) is recvfrom(fd, 10).
        let sends = Self.calls(events, "sendto").filter { $0.int("lport") == clientPort }
        #expect(sends.compactMap { $0.int("result") }.reduce(0, +) == 5, "sendall(b'Hello'): sendto() until 5 bytes went")
        let receives = Self.calls(events, "recvfrom").filter { $0.int("lport") == clientPort }
        #expect(!receives.isEmpty && receives.allSatisfy { ($0.string("text") ?? "").hasPrefix("recvfrom(fd \(connect.int("fd")!), 10)") })
        // Labels name the program and its pid; the server's output lines are events too.
        #expect(connect.string("label") == "python3 \(connect.int("pid")!)")
        #expect(events.contains { $0.type == "output" && $0.string("text") == "client Received: b'Hello'" })
        #expect(watch.stderr.contains { $0.hasSuffix("packets of other programs not shown") })
    }

    @Test("--format ladder: the Python pair's calls hang from their ends' columns, connect() in halves around the handshake")
    func pythonPairLadder() throws {
        let watch = try Self.watchPythonPair(format: "ladder")
        let lines = watch.stdout.map(Self.unglued)
        // A call hangs (`+-`) from the client's bar (column 16) or the server's (column 64).
        func hangs(_ line: String, from column: Int) -> Bool { line.dropFirst(column).hasPrefix("+- [python3 ") }
        func index(_ words: String...) throws -> Int {
            try #require(lines.firstIndex { line in words.allSatisfy(line.contains) }, "\(words): \(lines.suffix(40))")
        }
        let connect = try index("] connect(fd ", ", 127.0.0.1:", ") ...")
        let connected = try index("] ... connect() -> 0 <")
        let accept = try index("] accept4(fd ", ") ...")
        let accepted = try index("] ... accept4() -> fd ", " from 127.0.0.1:")
        let syn = try index("|-- SYN seq 0 "), ack = try index("|-- ACK seq 1 ack 1 ")
        #expect(accept < syn && connect < syn && syn < ack && ack < connected && ack < accepted, "\(lines)")
        #expect(hangs(lines[connect], from: 16) && hangs(lines[connected], from: 16), "\(lines[connect]) / \(lines[connected])")
        #expect(hangs(lines[accept], from: 64) && hangs(lines[accepted], from: 64), "\(lines[accept]) / \(lines[accepted])")
        // recv() on accept()'s descriptor is the server's; the client's sendto() and its exit are the client's.
        // That recv() is drawn in halves around the client's FIN only if the server was already in
        // it when the FIN came, which the scheduler decides: either form will do.
        #expect(hangs(lines[try index("] ", "recvfrom(", ") -> 0 (peer closed)")], from: 64))
        #expect(hangs(lines[try index("] sendto(fd ", "\"Hello\"")], from: 16))
        let pid = lines[connect].dropFirst(16 + "+- [python3 ".count).prefix { $0.isNumber }
        #expect(hangs(lines[try index("[python3 \(pid)] +++ exited with 0 +++")], from: 16))
        // No call of either program on the other's column; times only go down.
        #expect(!lines.contains { $0.contains("] accept4(") && hangs($0, from: 16) })
        #expect(!lines.contains { $0.contains("] connect(fd ") && $0.contains(", 127.0.0.1:") && hangs($0, from: 64) })
        let times = lines.compactMap { line -> Double? in
            guard line.dropFirst(12).hasPrefix(" ms ") else { return nil }
            return line.prefix(12).split(separator: " ").last.flatMap { Double($0) }
        }
        #expect(times.count > 20 && times == times.sorted(), "\(times)")
    }

    @Test("a threaded server: recv() on several threads, each labelled pid/tid, on the descriptors accept() returned")
    func threadedServer() throws {
        let directory = try ScratchFolder()
        let server = directory.url.appendingPathComponent("threaded.py").path
        try """
        import socket, sys, threading
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
        print("server start, listening %s:%d" % s.getsockname(), flush=True)
        def serve(conn):
            while True:
                data = conn.recv(2048)
                if not data: break
                conn.sendall(data)
            conn.close()
        while True:
            conn, addr = s.accept()
            threading.Thread(target=serve, args=(conn,)).start()
        """.write(toFile: server, atomically: true, encoding: .utf8)
        // `wait` for the clients only: the server runs on until the watch ends.
        let clients = (1...3).map { "\(Self.python) \(Self.examples)/client.py $port Hi\($0) & c\($0)=$!;" }.joined(separator: " ")
            + " wait $c1 $c2 $c3"
        let watch = try ToolProcess("handshake-watch", ["--format", "json", "--", "sh", "-c", Self.pair(server: server, client: clients)])
        #expect(try watch.waitForExit(timeout: 120) == 0, "\(watch.stderr)")
        let events = Self.events(watch.stdout)
        let accepts = events.filter { $0.type == "syscall" && ($0.string("call") ?? "").hasPrefix("accept") && ($0.int("result") ?? -1) >= 0 }
        #expect(accepts.count == 3, "\(watch.stdout.filter { $0.contains("accept") || $0.contains("exit") || $0.contains("connection") })")
        let serverPid = try #require(accepts.first?.int("pid"))
        let fds = Set(accepts.compactMap { $0.int("result") })
        let receives = Self.calls(events, "recvfrom").filter { $0.int("pid") == serverPid && fds.contains($0.int("fd") ?? -1) }
        let tids = Set(receives.compactMap { $0.int("tid") })
        #expect(tids.count >= 2 && !tids.contains(serverPid), "recv() on the handler threads: \(tids)")
        for receive in receives {
            #expect(receive.string("label") == "python3 \(serverPid)/\(receive.int("tid")!)")
        }
    }

    @Test("--pid attaches to a running server and detaches on SIGINT: it serves on, not stopped, no signal pending")
    func attachAndDetach() throws {
        let server = try ToolProcess(Self.python, ["\(Self.examples)/server.py", "0"])
        defer { server.signal(SIGKILL); _ = try? server.waitForExit() }
        let port = try server.waitForPort(containing: "server start, listening")
        let watch = try ToolProcess("handshake-watch", ["--format", "json", "--pid", "\(server.pid)"])
        _ = try watch.waitForLine(containing: "tracing \(server.pid) (", onStderr: true)
        let first = try runCommand(Self.python, ["\(Self.examples)/client.py", "\(port)", "attached"])
        #expect(first.status == 0)
        _ = try watch.waitForLine { $0.contains(#""type":"connection""#) }
        watch.signal(SIGINT)
        #expect(try watch.waitForExit() == 0, "\(watch.stderr)")
        let events = Self.events(watch.stdout)
        #expect(events.contains { $0.type == "syscall" && ($0.string("call") ?? "").hasPrefix("accept") && $0.int("pid") == Int(server.pid) },
                "the attached server's accept(): \(watch.stdout.suffix(20))")
        #expect(Self.calls(events, "recvfrom").contains { ($0.string("text") ?? "").contains("\"attached\"") })

        let status = try String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8)
        func field(_ name: String) -> String? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        #expect(field("TracerPid") == "0", "detached")
        #expect(field("SigPnd").map { UInt64($0, radix: 16) } == 0, "no signal pending for its thread")
        #expect(field("ShdPnd").map { UInt64($0, radix: 16) } == 0, "no signal pending for the process")
        #expect(field("State")?.hasPrefix("t") == false && field("State")?.hasPrefix("T") == false, "not stopped: \(field("State") ?? "")")
        let after = try runCommand(Self.python, ["\(Self.examples)/client.py", "\(port)", "after"])
        #expect(after.status == 0, "the server serves on after the detach")
        #expect(server.isRunning)
    }

    @Test("the C pair, recorded with -w: X.events.jsonl beside X.pcap, and a text replay draws connect() around its handshake",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/cc"), "needs a C compiler (cc)"))
    func cPairRecordedAndReplayed() throws {
        let folder = try ScratchFolder()
        let c = try ExamplesTests.buildC(into: folder)
        let capture = folder.url.appendingPathComponent("c-pair.pcap").path
        let script = """
            f=$(mktemp); \(c.server) 0 > "$f" & i=0; \
            until grep -q listening "$f"; do i=$((i+1)); [ $i -gt 6000 ] && exit 99; sleep 0.02; done; \
            port=$(sed 's/.*://' "$f"); rm -f "$f"; \(c.client) $port
            """
        let record = try runCommand("handshake-watch", ["-w", capture, "--", "sh", "-c", script])
        #expect(record.status == 0, "\(record.stderr)")
        let sidecar = folder.url.appendingPathComponent("c-pair.events.jsonl").path
        let recorded = try #require(try EventsFile.read(path: sidecar), "-w wrote the events beside the capture")
        // The C client's send() and recv() are sendto() and recvfrom() too, with the flag it passes.
        let texts = recorded.events.compactMap { $0.string("text") }
        #expect(texts.contains { $0.hasPrefix("sendto(fd ") && $0.hasSuffix(", \"Hello\", 5, MSG_NOSIGNAL) -> 5") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("recvfrom(fd ") && $0.hasSuffix(", 10) -> 5 \"Hello\"") })

        let replay = try runCommand("handshake-watch", ["-r", capture])
        #expect(replay.status == 0)
        let lines = replay.stdout
        let start = try #require(lines.firstIndex { $0.contains("] connect(fd ") && $0.contains(", 127.0.0.1:") && $0.hasSuffix(") ...") }, "\(lines)")
        let syn = try #require(lines.firstIndex { $0.contains("[SYN]") })
        let ack = try #require(lines.firstIndex { $0.contains("handshake 3/3") })
        let back = try #require(lines.firstIndex { $0.contains("] ... connect() -> 0 <") })
        #expect(start < syn && syn < ack && ack < back, "\(lines)")
        let accept = try #require(lines.firstIndex { $0.contains("] accept(fd ") && $0.hasSuffix(") ...") })
        let socket = try #require(lines.firstIndex { $0.contains("echo-client-c") && $0.contains("] socket(AF_INET, SOCK_STREAM) -> fd ") })
        #expect(accept < socket, "the server's accept() is shown started before the client's socket()")

        // --format svg draws the traced calls as bars beside the ladder (the client's output
        // goes elsewhere: COMMAND shares the watcher's stdout).
        let svg = try runCommand("handshake-watch", ["--format", "svg", "--", "sh", "-c", script + " > /dev/null"])
        #expect(svg.status == 0, "\(svg.stderr)")
        let drawing = svg.stdout.joined(separator: "\n")
        #expect(drawing.hasPrefix("<?xml") && drawing.hasSuffix("</svg>"))
        #expect(drawing.contains("connect(fd ") && drawing.contains("accept(fd "), "the calls are drawn")
    }

    /// A job-control stop of a traced program (the class presses Ctrl-Z, or `kill -STOP`): the
    /// tracer delivers SIGSTOP as it came, and at the group-stop that follows it parks the
    /// thread with PTRACE_LISTEN instead of resuming it. So the program stays stopped, as it
    /// would untraced, and SIGCONT (which the tracer does not see) wakes it. A tracer that
    /// resumed it with PTRACE_SYSCALL would let it run on while "stopped"; one that never
    /// resumed the signal-delivery stop would leave it stopped for good after SIGCONT.
    @Test("SIGSTOP stops a traced program (group-stop, PTRACE_LISTEN) and SIGCONT resumes it; its calls are traced after")
    func groupStopAndContinue() throws {
        let scratch = try ScratchFolder()
        let go = scratch.url.appendingPathComponent("go").path
        let program = """
        import os, socket, sys, time
        print("ready", os.getpid(), flush=True)
        while not os.path.exists(sys.argv[1]): time.sleep(0.01)
        socket.socket().close()
        print("done", flush=True)
        """
        let watch = try ToolProcess("handshake-watch", ["--format", "json", "port 1", "--", Self.python, "-c", program, go])
        defer { if watch.isRunning { watch.signal(SIGKILL); _ = try? watch.waitForExit() } }
        let ready = try watch.waitForLine(containing: "ready ")
        let pid = try #require(Int32(ready.split(separator: " ").last ?? ""))

        func state() -> String {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return status.split(separator: "\n").first { $0.hasPrefix("State:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) } ?? "gone"
        }
        func stopped() -> Bool { state().hasPrefix("t") || state().hasPrefix("T") }

        #expect(kill(pid, SIGSTOP) == 0)
        var waited = 0
        while !stopped() && waited < 1_000 { usleep(10_000); waited += 1 }   // bounded: 10 s
        #expect(stopped(), "stopped after SIGSTOP: \(state())")
        // It must stay stopped: resumed by mistake, the loop would be sleeping (S) or running (R).
        // The "go" file exists from now on, so a program let run would also print "done" here.
        FileManager.default.createFile(atPath: go, contents: nil)
        for _ in 0..<5 {
            usleep(50_000)
            #expect(stopped(), "still stopped while no SIGCONT came: \(state())")
        }
        #expect(!watch.stdout.contains("done"), "the program ran while stopped")

        #expect(kill(pid, SIGCONT) == 0)
        _ = try watch.waitForLine(containing: "done")
        #expect(try watch.waitForExit() == 0, "\(watch.stderr)")
        let events = Self.events(watch.stdout)
        #expect(Self.calls(events, "socket").contains { $0.int("pid") == Int(pid) }, "the socket() after SIGCONT is traced: \(watch.stdout.suffix(10))")
        #expect(Self.calls(events, "close").contains { $0.int("pid") == Int(pid) })
    }

    @Test("the watch exits with COMMAND's status, and 128+N when signal N killed it")
    func exitStatus() throws {
        let three = try runCommand("handshake-watch", ["--", "sh", "-c", "exit 3"])
        #expect(three.status == 3, "\(three.stderr)")
        let killed = try runCommand("handshake-watch", ["--", "sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 128 + SIGTERM, "\(killed.stderr)")
        let missing = try runCommand("handshake-watch", ["--", "/nonexistent/program"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("handshake-watch: cannot run /nonexistent/program: No such file or directory"))
    }

    @Test("as nobody: the calls come without packets, and one line says why")
    func withoutPrivileges() throws {
        guard Privileges.isRoot else { return }
        let tool = try Privileges.toolForNobody("handshake-watch")
        defer { tool.remove() }
        let run = try runCommand(tool.path, ["--format", "json", "--", Self.python, "-c",
                                             "import socket; s = socket.socket(); s.close()"], prefix: Privileges.asNobody)
        #expect(run.status == 0, "\(run.stderr)")
        let events = Self.events(run.stdout)
        #expect(Self.calls(events, "socket").contains { $0.string("text") == "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC) -> fd 3" },
                "\(run.stdout)")
        #expect(!events.contains { $0.type == "packet" })
        #expect(run.stderr == ["handshake-watch: packets and the kernel view need root or CAP_NET_RAW: showing the program's calls only"])

        // Another user's process (init's): one line, and status 1.
        let other = try runCommand(tool.path, ["--pid", "1"], prefix: Privileges.asNobody)
        #expect(other.status == 1)
        #expect(other.stderr.count == 1 && other.stderr[0].hasPrefix("handshake-watch: --pid 1: not allowed to trace it (ptrace: EPERM)"),
                "\(other.stderr)")
    }
}

/// A folder of its own in /tmp, removed when the test ends.
final class ScratchFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
