import Foundation
@preconcurrency import Glibc
import SocketCore
import Synchronization
import Testing

/// The core's calls over real loopback sockets.
@Suite("Socket over loopback")
struct SocketTests {
    @Test("bind to port 0: the kernel picks a free port, getsockname() tells which")
    func bindPortZero() throws {
        let socket = try Socket(family: AF_INET)
        try socket.setReuseAddress()
        try socket.bind(to: try #require(SocketAddress(ip: "127.0.0.1", port: 0)))
        let local = try #require(socket.localAddress)
        #expect(local.ip == "127.0.0.1")
        #expect(local.port > 0)
        try socket.listen(backlog: 1)
        try socket.close()
    }

    @Test("IPv6 on ::1 works the same way and prints [::1]:port")
    func ipv6Loopback() throws {
        let pair = try LoopbackPair(host: "::1")
        let address = try #require(pair.listener.localAddress)
        #expect("\(address)" == "[::1]:\(address.port)")
        try pair.client.sendAll(Array("six".utf8))
        #expect(try pair.server.recv(maxBytes: 16) == Array("six".utf8))
    }

    @Test("connected(timeout:) gives up with ETIMEDOUT when the listener's accept queue is full")
    func connectTimeoutOnFullBacklog() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 0)   // never accepts
        defer { try? listener.close() }
        let port = try #require(listener.localAddress?.port)
        var held: [Socket] = []
        defer { for socket in held { try? socket.close() } }
        var failure: SocketError?
        for _ in 0..<8 {   // the queue takes backlog + 1; the next SYN is dropped and connect() waits
            do {
                held.append(try Socket.connected(host: "127.0.0.1", port: port, timeout: 0.3))
            } catch let error as SocketError {
                failure = error
                break
            }
        }
        #expect(failure?.description == "connect() failed: ETIMEDOUT (Connection timed out)")
        #expect(held.count >= 1)
    }

    @Test("accept() returns a new socket and the peer's address (the client's ephemeral port)")
    func acceptAndPeer() throws {
        let pair = try LoopbackPair()
        #expect(pair.server.descriptor != pair.listener.descriptor)
        let peer = try #require(pair.peerSeenByAccept)
        #expect(peer == pair.client.localAddress)
        #expect(peer.port != pair.listener.localAddress?.port)
    }

    @Test("sendAll delivers every byte of 16 MiB although each send() may take fewer")
    func sendAllLoopsOverPartialWrites() throws {
        let pair = try LoopbackPair()
        let size = 16 * 1024 * 1024
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<size / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }

        // A small send buffer and a send timeout make single send() calls return short counts.
        try pair.client.setBufferSizes(send: 16 * 1024)
        try pair.client.setSendTimeout(seconds: 0.05)
        let firstSend = try payload.withUnsafeBytes { try pair.client.send($0) }
        #expect(firstSend > 0 && firstSend < size, "one send() took \(firstSend) of \(size) bytes: a partial write")

        try pair.client.setSendTimeout(seconds: nil)
        let sender = Thread { try? payload.withUnsafeBytes { try pair.client.sendAll(UnsafeRawBufferPointer(rebasing: $0[firstSend...])) } }
        sender.start()
        var received: [UInt8] = []
        received.reserveCapacity(size)
        while received.count < size {
            let chunk = try pair.server.recv(maxBytes: 65536)
            if chunk.isEmpty { break }
            received += chunk
        }
        #expect(received.count == size)
        #expect(received == payload)
    }

    @Test("recv() returns 0 (an empty read) once the peer has closed: end of stream")
    func recvEndOfStream() throws {
        let pair = try LoopbackPair()
        try pair.client.sendAll(Array("last words".utf8))
        try pair.client.close()
        #expect(try pair.server.recv(maxBytes: 64) == Array("last words".utf8))
        #expect(try pair.server.recv(maxBytes: 64).isEmpty)
        #expect(try pair.server.recv(maxBytes: 64).isEmpty, "and again: EOF stays EOF")
    }

    @Test("shutdownWrite is a half-close: the peer reads EOF and can still answer")
    func halfClose() throws {
        let pair = try LoopbackPair()
        try pair.client.sendAll(Array("question".utf8))
        try pair.client.shutdownWrite()
        #expect(try pair.server.recv(maxBytes: 64) == Array("question".utf8))
        #expect(try pair.server.recv(maxBytes: 64).isEmpty, "our FIN arrived")
        try pair.server.sendAll(Array("answer".utf8))   // the other direction is still open
        try pair.server.close()
        #expect(try pair.client.recv(maxBytes: 64) == Array("answer".utf8))
        #expect(try pair.client.recv(maxBytes: 64).isEmpty)
        let error = try #require(throws: SocketError.self) { try pair.client.sendAll(Array("more".utf8)) }
        #expect(error.errno == .brokenPipe, "writing after our own shutdown: EPIPE, and no SIGPIPE")
    }

    @Test("SO_LINGER 0: close() sends RST and the peer's recv() fails with ECONNRESET")
    func lingerZeroResets() throws {
        let pair = try LoopbackPair()
        try pair.client.setLinger(seconds: 0)
        try pair.client.close()
        let error = try #require(throws: SocketError.self) { _ = try pair.server.recv(maxBytes: 64) }
        #expect(error.errno == .connectionReset)
        #expect("\(error)" == "recv() failed: ECONNRESET (Connection reset by peer)")
        #expect(error.isPeerGone)
    }

    @Test("sending to a reset connection fails with an error instead of killing the process (SIGPIPE)")
    func noSigpipe() throws {
        let pair = try LoopbackPair()
        try pair.server.setLinger(seconds: 0)
        try pair.server.close()
        var errors: [Errno] = []
        for _ in 0..<3 {
            do { try pair.client.sendAll(Array("anyone?".utf8)) } catch let error as SocketError { errors.append(error.errno!) }
        }
        #expect(errors.contains(.brokenPipe) || errors.contains(.connectionReset))
    }

    @Test("SO_RCVTIMEO: a blocking recv() gives up with EAGAIN after the timeout")
    func receiveTimeout() throws {
        let pair = try LoopbackPair()
        try pair.client.setReceiveTimeout(seconds: 0.2)
        let error = try #require(throws: SocketError.self) { _ = try pair.client.recv(maxBytes: 64) }
        #expect(error.isWouldBlock)
    }

    @Test("poll() reports readiness: a pending connection, data, writability, end of stream")
    func pollReadiness() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 4)
        var poller = Poller()
        poller.watch(listener.descriptor, events: Int16(POLLIN))
        #expect(try poller.wait(timeoutMilliseconds: 0).isEmpty, "nobody has connected yet")

        let client = try Socket.connected(host: "127.0.0.1", port: try #require(listener.localAddress?.port))
        let ready = try poller.wait(timeoutMilliseconds: 5000)
        #expect(ready.map(\.descriptor) == [listener.descriptor])
        #expect(ready.first?.isReadable == true, "a completed handshake makes the listening socket readable")
        let (server, _) = try listener.accept()
        poller.remove(listener.descriptor)
        #expect(poller.count == 0)

        poller.watch(server.descriptor, events: Int16(POLLIN))
        #expect(try poller.wait(timeoutMilliseconds: 0).isEmpty, "no data yet")
        poller.watch(server.descriptor, events: Int16(POLLIN | POLLOUT))
        let writable = try poller.wait(timeoutMilliseconds: 5000)
        #expect(writable.first?.isWritable == true && writable.first?.isReadable == false)

        poller.watch(server.descriptor, events: Int16(POLLIN))   // replaces the interest
        try client.sendAll(Array("ping".utf8))
        #expect(try poller.wait(timeoutMilliseconds: 5000).first?.isReadable == true)
        #expect(try server.recv(maxBytes: 16) == Array("ping".utf8))

        try client.close()
        #expect(try poller.wait(timeoutMilliseconds: 5000).first?.isReadable == true, "a FIN is readable too")
        #expect(try server.recv(maxBytes: 16).isEmpty)
    }

    @Test("a non-blocking socket returns EAGAIN instead of waiting")
    func nonBlocking() throws {
        let pair = try LoopbackPair()
        try pair.server.setNonBlocking()
        let error = try #require(throws: SocketError.self) { _ = try pair.server.recv(maxBytes: 16) }
        #expect(error.isWouldBlock)
        #expect("\(error)" == "recv() failed: EAGAIN (Resource temporarily unavailable)")
    }

    @Test("close() reaches the kernel once, however many threads call it")
    func closeExactlyOnce() throws {
        let pair = try LoopbackPair()
        let failures = Mutex(0)
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                // A second close(2) of the same number would fail with EBADF and throw here.
                do { try pair.server.close() } catch { failures.withLock { $0 += 1 } }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(failures.withLock { $0 } == 0)
        try pair.server.close()   // and once more: still nothing
        #expect(try pair.client.recv(maxBytes: 16).isEmpty, "the peer saw exactly one FIN")
    }

    @Test("options the lessons use can be set: SO_REUSEADDR, TCP_NODELAY, buffers, timeouts")
    func options() throws {
        let pair = try LoopbackPair()
        try pair.client.setReuseAddress()
        try pair.client.setNoDelay()
        try pair.client.setBufferSizes(receive: 65536, send: 65536)
        try pair.client.setSendTimeout(seconds: 1.5)
        try pair.client.setReceiveTimeout(seconds: nil)
        try pair.client.setLinger(seconds: nil)
        #expect(try pair.client.pendingError() == nil)
        let noDelay = try Syscall.getsockopt(pair.client.descriptor, level: Int32(IPPROTO_TCP), option: TCP_NODELAY, name: "TCP_NODELAY")
        #expect(noDelay != 0)
    }
}
