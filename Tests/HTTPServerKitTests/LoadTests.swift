import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

@Suite("HTTPServer load") struct LoadTests {
    @Test func fiftyConcurrentClients() throws {
        let f = try Fixture()
        let failures = Atomicish()
        let port = f.port
        DispatchQueue.concurrentPerform(iterations: 50) { i in
            do {
                let r = try get(port, i % 2 == 0 ? "/a.txt" : "/list/")
                if r.status != 200 || (i % 2 == 0 && r.text != "hello\n") { failures.add("client \(i): \(r.statusLine)") }
            } catch {
                failures.add("client \(i): \(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
    }

    @Test func oneGiBSparseFile() throws {
        let f = try Fixture()
        let path = f.root + "/big.bin"
        let size = 1 << 30
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(size)) == 0)   // sparse: 1 GiB of zeros, no disk used
        let marks: [(Int, String)] = [(0, "HEAD-MARK"), (size / 2, "MIDDLE"), (size - 9, "TAIL-MARK")]
        for (offset, text) in marks {
            _ = Array(text.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        }
        close(fd)

        // The whole body with curl, a real client: length only (no slow hashing of 1 GiB here).
        let curl = try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                                    "http://127.0.0.1:\(f.port)/big.bin"], timeout: 120)
        #expect(curl.stdout.joined() == "200 \(size)")

        let head = try get(f.port, "/big.bin", headers: ["Range: bytes=0-8"])
        #expect(head.text == "HEAD-MARK")
        let tail = try get(f.port, "/big.bin", headers: ["Range: bytes=-9"])
        #expect(tail.text == "TAIL-MARK")
        #expect(tail.header("Content-Range") == "bytes \(size - 9)-\(size - 1)/\(size)")
        let middle = try get(f.port, "/big.bin", headers: ["Range: bytes=\(size / 2 - 2)-\(size / 2 + 7)"])
        #expect(middle.body == [0, 0] + Array("MIDDLE".utf8) + [0, 0])
        let zeros = try get(f.port, "/big.bin", headers: ["Range: bytes=1000000-1065535"])
        #expect(zeros.body.count == 65536 && zeros.body.allSatisfy { $0 == 0 })
        let headers = try fetch(f.port, "HEAD /big.bin HTTP/1.0\r\n\r\n", head: true)
        #expect(headers.header("Content-Length") == String(size))

        // The server never holds the file in memory: its RSS stays far below 1 GiB.
        let status = try String(contentsOfFile: "/proc/\(f.server.pid)/status", encoding: .utf8)
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(peak < 100_000, "peak RSS \(peak) kB")
    }

    /// Not in iterative mode: there one slow client holds the server (Python's HTTPServer too).
    @Test(arguments: ["threads", "epoll"]) func slowClientsDoNotStopOthers(mode: String) throws {
        let f = try Fixture(["--mode", mode, "--timeout", "4"])
        var slow: [Socket] = []
        for _ in 0..<200 {
            let socket = try Socket.connected(host: "127.0.0.1", port: f.port)
            try socket.sendAll(Array("GET /a.txt HTTP/1.1\r\nHost: slow\r\nX-Wait:".utf8))   // never finished
            slow.append(socket)
        }
        let r = try get(f.port, "/a.txt")
        #expect(r.text == "hello\n")
        // Served while the slow ones still held their connections, not after the timeout freed them.
        let first = slow[0]
        var probe = [UInt8](repeating: 0, count: 16)
        let early = try? probe.withUnsafeMutableBytes { try Syscall.recvIfReady(first.descriptor, into: $0) }
        #expect(early == .some(nil), "the slow client's connection was still open when the other was served")
        // The slow ones are dropped once the request timeout passes.
        try first.setReceiveTimeout(seconds: 120)
        #expect(try first.recv(maxBytes: 100).isEmpty)
        _ = try f.logLine(containing: "Request timed out: TimeoutError('timed out')")   // Python's line, %r of the exception
    }

    @Test func vanishingClientDoesNotDisturbOthers() throws {
        let f = try Fixture()
        let path = f.root + "/big.bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(256 << 20))
        close(fd)
        for _ in 0..<5 {
            let quitter = try Socket.connected(host: "127.0.0.1", port: f.port)
            try quitter.sendAll(Array("GET /big.bin HTTP/1.0\r\n\r\n".utf8))
            _ = try quitter.recv(maxBytes: 1000)
            try quitter.setLinger(seconds: 0)   // leave with RST in the middle of the body
            try quitter.close()
        }
        #expect(try get(f.port, "/a.txt").text == "hello\n")
        #expect(f.server.isRunning)
    }

    /// Clients that misbehave in every way we know leave no descriptor and no thread behind:
    /// the server's /proc/PID/fd count comes back to what it was.
    @Test(arguments: ["threads", "epoll"]) func hostileClientsLeaveNoDescriptorBehind(mode: String) throws {
        let f = try Fixture(["--mode", mode, "-p", "HTTP/1.1", "--timeout", "2"])
        let fd = open(f.root + "/big.bin", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(16 << 20))
        close(fd)
        let before = resourceCounts(pid: f.server.pid).descriptors   // listener, folder, epoll, stdio

        let requests = [
            "GET /a.txt HTTP/1.1\r\nHo",                                       // closes mid-head
            "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",                          // closes mid-body
            "GET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\n\r\n", // error, then more bytes
            "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\nHEAD /list/ HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /a\u{0}b HTTP/1.1\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\r\n", "",
            "GET /list/ HTTP/1.1\r\nRange: bytes=0-0\r\n\r\n",
            "GET /a.txt HTTP/1.1\r\nRange: bytes=9-\r\n\r\n",                  // 416
            "POST /a.txt HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",             // body cut short
        ]
        for (index, request) in requests.enumerated() {
            for reset in [false, true] {
                let client = try Socket.connected(host: "127.0.0.1", port: f.port)
                try client.sendAll(Array(request.utf8))
                if index % 2 == 0 { try client.setReceiveTimeout(seconds: 0.2); _ = try? client.recv(maxBytes: 1000) }
                if reset { try client.setLinger(seconds: 0) }   // leave with RST rather than FIN
                try client.close()
            }
        }
        // Idle keep-alive connections and half-sent heads are closed after --timeout 2.
        let deadline = Date().addingTimeInterval(120)   // a bound for a very busy machine
        var now = resourceCounts(pid: f.server.pid).descriptors
        while now > before && Date() < deadline {
            usleep(100_000)
            now = resourceCounts(pid: f.server.pid).descriptors
        }
        #expect(now == before)
        #expect(try get(f.port, "/a.txt").text == "hello\n")
    }

    @Test func curlAsARealClient() throws {
        let f = try Fixture(["-p", "HTTP/1.1"])
        let url = "http://127.0.0.1:\(f.port)"
        let result = try runCommand("/usr/bin/curl", ["-s", "-i", "\(url)/a.txt", "\(url)/list/Sub", "-w", "%{num_connects}\n"])
        let output = result.stdout.joined(separator: "\n")
        #expect(output.contains("HTTP/1.1 200 OK"))
        #expect(output.contains("hello"))
        #expect(output.contains("HTTP/1.1 301 Moved Permanently"))
        #expect(output.contains("Location: /list/Sub/"))
        #expect(result.stdout.filter { $0 == "1" || $0 == "0" }.count == 2)   // second request reused the connection
        let ranged = try runCommand("/usr/bin/curl", ["-s", "-r", "0-3", "\(url)/a.txt"])
        #expect(ranged.stdout == ["hell"])
    }
}

/// A thread-safe list of failure messages.
final class Atomicish: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite("HTTPServer limits") struct LimitTests {
    @Test(arguments: ServerModes.all) func idleKeepAliveConnectionIsClosed(mode: String) throws {
        let f = try Fixture(["--mode", mode, "-p", "HTTP/1.1", "--timeout", "1"])
        let client = try WireClient(port: f.port, timeout: 120)
        try client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(client.isClosedByServer())   // closed after --timeout idle seconds (the client's 120 s bound is never reached)
    }

    /// After an error the server drains what the client still sends before closing (a
    /// lingering close), but not forever: a client trickling bytes once held its connection,
    /// and with it a connection slot, for as long as it liked. Now: at most --timeout.
    @Test func lingeringCloseHasAnEnd() throws {
        let f = try Fixture(["--max-connections", "1", "--timeout", "2"])
        let trickler = try Socket.connected(host: "127.0.0.1", port: f.port)
        try trickler.sendAll(Array("GET /missing HTTP/1.0\r\n\r\n".utf8))
        let start = Date()
        let served = DispatchSemaphore(value: 0)
        let port = f.port
        DispatchQueue.global().async {
            if let r = try? get(port, "/a.txt"), r.status == 200 { served.signal() }   // waits for the only slot
        }
        var answered = false
        while Date().timeIntervalSince(start) < 120 {   // a bound for a very busy machine
            try? trickler.sendAll([UInt8(ascii: "x")])   // fails once the server has closed: fine
            if served.wait(timeout: .now() + .milliseconds(200)) == .success {
                answered = true
                break
            }
        }
        #expect(answered)
    }

    /// A request that announces a body nobody reads (here 10 MB, of which 300 KB are sent),
    /// from a client slow to read a 4 MB answer: closing with the body unread made the kernel
    /// reset the connection and drop the part of the answer still queued (113 KB arrived).
    @Test func unreadBodyDoesNotCutTheResponse() throws {
        let f = try Fixture()
        let fd = open(f.root + "/four.bin", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(4_000_000))
        close(fd)
        let client = try WireClient(port: f.port)
        try client.send("GET /four.bin HTTP/1.0\r\nContent-Length: 10000000\r\n\r\n")
        try? client.send(bytes: [UInt8](repeating: 0x78, count: 300_000))
        // The client is busy elsewhere before it reads: wait until the answer has started to
        // arrive and waits queued in its receive buffer.
        let deadline = Date().addingTimeInterval(120)
        var queued: Int32 = 0
        while queued == 0 && Date() < deadline {
            _ = ioctl(client.socket.descriptor, UInt(FIONREAD), &queued)
            if queued == 0 { usleep(10_000) }   // polling the kernel's queue length, not a sleep as synchronisation
        }
        #expect(queued > 0)
        let r = try client.readResponse()
        #expect(r.status == 200)
        #expect(r.body.count == 4_000_000)
    }

    /// threads: a thread per connection, so at the limit new clients wait in the backlog.
    @Test func maxConnectionsQueuesTheRest() throws {
        let f = try Fixture(["--mode", "threads", "-p", "HTTP/1.1", "--max-connections", "2"])
        let holders = try (0..<2).map { _ in try WireClient(port: f.port) }
        for holder in holders {
            try holder.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try holder.readResponse().status == 200)
        }
        let waiting = try WireClient(port: f.port, timeout: 0.5)
        try waiting.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(throws: (any Error).self) { try waiting.readResponse() }   // not accepted yet
        try holders[0].socket.close()
        try waiting.socket.setReceiveTimeout(seconds: 5)
        #expect(try waiting.readResponse().status == 200)
    }

    /// epoll: at the limit, the connection idle the longest is closed to admit the new one
    /// (nginx's ngx_drain_connections), so idle clients can never lock a real one out.
    @Test func maxConnectionsClosesTheOldestIdle() throws {
        let f = try Fixture(["-p", "HTTP/1.1", "--max-connections", "2"])
        let holders = try (0..<2).map { _ in try WireClient(port: f.port, timeout: 10) }
        for holder in holders {
            try holder.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try holder.readResponse().status == 200)
        }
        let newcomer = try WireClient(port: f.port, timeout: 10)
        try newcomer.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try newcomer.readResponse().status == 200)
        // One idle holder was closed before the newcomer was accepted (which one depends on
        // which worker gave its connection back first); the other is still served.
        let open = holders.filter { isStillOpen($0.socket) }
        #expect(open.count == 1)
        for holder in open {
            try holder.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try holder.readResponse().status == 200)
        }
    }

    @Test func traceShowsTheSystemCalls() throws {
        let f = try Fixture(["--trace"])
        _ = try get(f.port, "/a.txt")
        _ = try f.logLine(containing: "accept(fd")
        _ = try f.logLine(containing: "epoll_wait(")
        _ = try f.logLine(containing: "send(fd")
    }
}
