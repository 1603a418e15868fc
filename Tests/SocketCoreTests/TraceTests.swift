import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// `--trace`: one line per system call on stderr, `HH:MM:SS.uuuuuu call(args) -> result <d.dddddd>`
/// (strace -tt -T). Tracing is process-wide, so the tools' own tests read it from their stderr
/// rather than turning it on inside the test process; the span rules are tested on `Trace.Span`.
@Suite("Trace")
struct TraceTests {
    @Test("time of day is local HH:MM:SS with six digits of microseconds")
    func timeOfDayFormat() {
        let now = time(nil)
        var parts = tm()
        var t = now
        localtime_r(&t, &parts)
        let text = Clock.timeOfDay(EpochTime(seconds: Int64(now), microseconds: 42))
        #expect(text == String(format: "%02d:%02d:%02d.000042", parts.tm_hour, parts.tm_min, parts.tm_sec))
        #expect(Clock.timeOfDay(EpochTime(seconds: Int64(now), microseconds: 999_999)).hasSuffix(".999999"))
        #expect(Clock.timeOfDay(Clock.now()).wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6}/) != nil)
    }

    @Test("a span starts before the call and ends after it: start <= call, start + duration >= return")
    func spanBracketsTheCall() {
        for _ in 0..<200 {
            let before = Clock.now()
            let span = Trace.Span()
            let inside = Clock.now()           // stands for the call
            let stopped = span.stop()
            #expect(before <= span.start && span.start <= inside)
            #expect(stopped.duration >= 0)
            // Both stamps are cut to the microsecond: allow that one microsecond.
            #expect(span.start.adding(seconds: stopped.duration).microseconds + 1 >= inside.microseconds)
        }
    }

    @Test("a trace line is the start's time of day, the text, and the duration in strace -T form")
    func lineFormat() throws {
        let start = EpochTime(seconds: 1_795_642_942, microseconds: 605_001)
        let line = Trace.line("connect(fd 3, 127.0.0.1:38633) -> 0", start: start, duration: 0.000312)
        #expect(line == Clock.timeOfDay(start) + " connect(fd 3, 127.0.0.1:38633) -> 0 <0.000312>")
        #expect(Clock.spanSuffix(1.5) == "<1.500000>")
        #expect(Clock.spanSuffix(0) == "<0.000000>")

        #expect(callOf(line)?.text == "connect(fd 3, 127.0.0.1:38633) -> 0")
        #expect(callOf("server start, listening 127.0.0.1:5000") == nil)
    }

    @Test("a time of day reads back as the epoch time nearest the reference, across midnight")
    func epochFromTimeOfDay() throws {
        // Local midnight of today, found with mktime so the test holds in any time zone.
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        (parts.tm_hour, parts.tm_min, parts.tm_sec, parts.tm_isdst) = (0, 0, 0, -1)
        let midnight = Int64(mktime(&parts))
        for offset: Int64 in [-86_400 * 1_000_000 + 1, -1, 0, 1, 999_999, 3_600_000_000, 43_000_000_000] {
            let moment = EpochTime(microseconds: midnight * 1_000_000 + offset)
            let text = Substring(Clock.timeOfDay(moment))
            for distance: Double in [-3600, -1, 0, 0.5, 3600, 11 * 3600] {
                #expect(Clock.epoch(timeOfDay: text, near: moment.adding(seconds: distance)) == moment,
                        "\(text) near \(distance) s")
            }
        }
        #expect(Clock.epoch(timeOfDay: "25:00:00.000000", near: Clock.now()) == nil)
        #expect(Clock.epoch(timeOfDay: "12:00:00", near: Clock.now()) == nil)
        let nano = try #require(Clock.epoch(timeOfDay: Substring(Clock.timeOfDayPrefix(seconds: midnight) + "123456789"),
                                            near: EpochTime(seconds: midnight, microseconds: 0)))
        #expect(nano == EpochTime(seconds: midnight, microseconds: 123_456))
    }

    @Test("a call interrupted by a signal (EINTR) and retried is one span, one line")
    func interruptedCallIsOneSpan() throws {
        // The trace goes to stderr: point fd 2 at a pipe for the length of one call.
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let saved = dup(STDERR_FILENO)
        fflush(nil)
        dup2(ends[1], STDERR_FILENO)
        Trace.enable()
        var attempts = 0
        let result = try Syscall.call("pretend", "fd 99", result: { "\($0)" }) { () -> Int32 in
            attempts += 1
            if attempts < 3 { errno = EINTR; return -1 }
            return 7
        }
        Trace.disable()
        fflush(nil)
        dup2(saved, STDERR_FILENO)
        close(saved)
        close(ends[1])
        var bytes = [UInt8](repeating: 0, count: 65_536)
        var text = ""
        while true {
            let count = read(ends[0], &bytes, bytes.count)
            if count <= 0 { break }
            text += String(decoding: bytes[..<count], as: UTF8.self)
        }
        close(ends[0])
        #expect(result == 7 && attempts == 3)
        // Other tests of this process may trace while the pipe is in place: look at ours only.
        let ours = text.split(separator: "\n").filter { $0.contains("pretend(") }
        #expect(ours.count == 1, "\(ours)")
        #expect(ours.first.flatMap { callOf(String($0)) }?.text == "pretend(fd 99) -> 7")
    }

    @Test("write(2)'s buffer is quoted as strace quotes it")
    func quoting() {
        #expect(Trace.quoted(Array("server Connected by 127.0.0.1:44806\n".utf8)) == #""server Connected by 127.0.0.1:44806\n""#)
        #expect(Trace.quoted([0x22, 0x5C, 0x09, 0x0D, 0x0B, 0x0C]) == #""\"\\\t\r\v\f""#)
        #expect(Trace.quoted([0x00, 0x31, 0x1B, 0x5B]) == #""\0001\33[""#)
        #expect(Trace.quoted([0xE2, 0x86, 0x92]) == #""\342\206\222""#)
        #expect(Trace.quoted([0x08, 0x37, 0x7F, 0x01, 0x39, 0x00]) == #""\0107\177\19\0""#)
        #expect(Trace.quoted(Array("abcdef".utf8), limit: 3) == #""abc"..."#)
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
        let acceptPattern = try Regex(#"\d\d:\d\d:\d\d\.\d{6} accept\(fd (\d+)\) -> fd \d+ from 127\.0\.0\.1:"# + "\(clientPort)" + #" <\d+\.\d{6}>"#)
        let match = try #require(accept.wholeMatch(of: acceptPattern), "\(accept)")
        let listenFD = String(try #require(match.output[1].substring))

        let lines = server.stderr
        let expected = [
            "socket(AF_INET, SOCK_STREAM) -> fd \(listenFD)",
            "setsockopt(fd \(listenFD), SO_REUSEADDR, 1) -> 0",
            "bind(fd \(listenFD), 127.0.0.1:0) -> 0",
            "listen(fd \(listenFD), backlog 5) -> 0",
        ]
        let calls = lines.compactMap { callOf($0)?.text }
        #expect(Array(calls.prefix(4)) == expected)
        #expect(lines.allSatisfy { $0.prefixMatch(of: stamp) != nil }, "every line starts with the time of day")
        #expect(lines.allSatisfy { $0.firstMatch(of: /\ <\d+\.\d{6}>$/) != nil }, "every line ends with its duration")
        #expect(isNow(lines[0]), "the time of day is now: \(lines[0])")

        let clientCalls = client.stderr.compactMap { callOf($0)?.text }
        #expect(clientCalls.contains { $0.wholeMatch(of: /connect\(fd \d+, 127\.0\.0\.1:\d+\) -> 0/) != nil }, "\(clientCalls)")
        #expect(clientCalls.contains { $0.wholeMatch(of: /send\(fd \d+, 2 bytes\) -> 2/) != nil })
        #expect(clientCalls.contains { $0.wholeMatch(of: /close\(fd \d+\) -> 0/) != nil })
    }

    @Test("with --trace each stdout line leaves in one traced write(2); stdout itself does not change")
    func stdoutWritesAreTraced() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--trace", "--mode", "threads"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let traced = try runCommand("echo-client", ["--port", "\(port)", "--trace", "hi \"there\""], timeout: 20)
        let plain = try runCommand("echo-client", ["--port", "\(port)", "hi \"there\""], timeout: 20)
        #expect(traced.status == 0 && plain.status == 0)
        let masked = { (lines: [String]) in lines.map { $0.replacing(/:\d+/, with: ":P") } }
        #expect(masked(traced.stdout) == masked(plain.stdout), "stdout is the same with and without --trace")
        let writes = traced.stderr.compactMap { callOf($0) }.filter { $0.call == "write" }.map(\.text)
        let expected = traced.stdout.map { "write(fd 1, \(Trace.quoted(Array(($0 + "\n").utf8))), \($0.utf8.count + 1)) -> \($0.utf8.count + 1)" }
        #expect(writes == expected)

        // The server's "Connected by" line is written after accept() returned, and is traced too.
        let connected = try server.waitForLine(containing: "write(fd 1, \"server Connected by", onStderr: true)
        #expect(callOf(connected) != nil, "\(connected)")
        let order = server.stderr.compactMap { callOf($0)?.call }
        let acceptIndex = try #require(order.firstIndex(of: "accept"))
        #expect(order[acceptIndex...].contains("write"))
    }

    @Test("a failing call is traced with errno's name and text")
    func failureIsTraced() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let port = try #require(listener.localAddress?.port)
        try listener.close()
        let client = try runCommand("echo-client", ["--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(client.status == 1)
        #expect(client.stderr.contains { $0.wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6} connect\(fd \d+, 127\.0\.0\.1:\d+\) -> ECONNREFUSED \(Connection refused\) <\d\.\d{6}>/) != nil },
                "\(client.stderr)")
        #expect(client.stderr.last == "echo-client: cannot connect to 127.0.0.1:\(port): connect() failed: ECONNREFUSED (Connection refused)")

        let named = try runCommand("echo-client", ["--host", "localhost", "--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(named.stderr.first?.wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6} getaddrinfo\("localhost", \d+\) -> .*127\.0\.0\.1.* <\d\.\d{6}>/) != nil,
                "\(named.stderr)")
        let unknown = try runCommand("echo-client", ["--host", "no-such-host.invalid", "--port", "\(port)", "--trace", "hi"], timeout: 120)
        #expect(unknown.stderr.first?.contains(#"getaddrinfo("no-such-host.invalid", "# + "\(port)) -> EAI_") == true, "\(unknown.stderr)")
        #expect(unknown.stderr.first.flatMap { callOf($0) } != nil, "the failing getaddrinfo line ends in <...> too")
    }

    /// A trace line's call name and text, without the stamp and the duration; nil for other lines.
    private func callOf(_ line: String) -> (call: String, text: String)? {
        guard let match = line.wholeMatch(of: /\d\d:\d\d:\d\d\.\d{6} ((\w+)\(.*) <\d+\.\d{6}>/) else { return nil }
        return (String(match.output.2), String(match.output.1))
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
