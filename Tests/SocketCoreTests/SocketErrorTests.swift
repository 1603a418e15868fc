@preconcurrency import Glibc
import SocketCore
import Testing

@Suite("SocketError and Errno")
struct SocketErrorTests {
    @Test("a refused connect() reads `connect() failed: ECONNREFUSED (Connection refused)`")
    func connectionRefused() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let address = try #require(listener.localAddress)
        try listener.close()   // nothing listens there now: the SYN is answered with RST
        let socket = try Socket(family: AF_INET)
        let error = try #require(throws: SocketError.self) { try socket.connect(to: address) }
        #expect("\(error)" == "connect() failed: ECONNREFUSED (Connection refused)")
        #expect(error.call == "connect")
        #expect(error.errno == .connectionRefused)
        #expect(error.codeName == "ECONNREFUSED")
        #expect(error.reason == "Connection refused")
    }

    @Test("a port in use reads `bind() failed: EADDRINUSE (Address already in use)`")
    func addressInUse() throws {
        let holder = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let port = try #require(holder.localAddress?.port)
        let error = try #require(throws: SocketError.self) {
            try Socket.listening(host: "127.0.0.1", port: port, backlog: 1)
        }
        #expect("\(error)" == "bind() failed: EADDRINUSE (Address already in use)")
        #expect(error.errno == .addressInUse)
    }

    @Test("errno values print their symbolic name and strerror text", arguments: [
        (EACCES, "EACCES (Permission denied)"), (ECONNRESET, "ECONNRESET (Connection reset by peer)"),
        (EPIPE, "EPIPE (Broken pipe)"), (EAGAIN, "EAGAIN (Resource temporarily unavailable)"),
        (ETIMEDOUT, "ETIMEDOUT (Connection timed out)"), (EMFILE, "EMFILE (Too many open files)"),
        (9999, "E9999 (Unknown error 9999)"),
    ])
    func errnoDescription(value: Int32, text: String) {
        #expect("\(Errno(rawValue: value))" == text)
    }

    @Test("peer-gone and would-block are recognised; other errors are not")
    func classification() {
        #expect(SocketError(call: "send", errno: .brokenPipe).isPeerGone)
        #expect(SocketError(call: "recv", errno: .connectionReset).isPeerGone)
        #expect(!SocketError(call: "recv", errno: .connectionReset).isWouldBlock)
        #expect(SocketError(call: "recv", errno: .wouldBlock).isWouldBlock)
        #expect(!SocketError(call: "bind", errno: .permissionDenied).isPeerGone)
        #expect(!SocketError(call: "getaddrinfo", gaiCode: EAI_NONAME).isPeerGone)
        #expect("\(SocketError(call: "getaddrinfo", gaiCode: EAI_NONAME))" == "getaddrinfo() failed: EAI_NONAME (Name or service not known)")
    }
}
