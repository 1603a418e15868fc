import Foundation
import Glibc
@testable import HTTPServerKit
import SocketCore
import Synchronization
import Testing
import TestSupport

/// The streams handlers opened, for the test to push into.
final class StreamBox: Sendable {
    let streams = Mutex<[ResponseStream]>([])
    var first: ResponseStream? { streams.withLock { $0.first } }
}

/// Sends an event-stream head and leaves the body open: chunked for `GET /chunked HTTP/1.1`,
/// close-delimited otherwise; `/small` streams have a 64 KiB buffer limit.
final class StreamingHandler: RequestHandler {
    var box: StreamBox?
    override func doGET() throws {
        if path == "/chunked" { protocolVersion = "HTTP/1.1" }
        sendResponse(200)
        sendHeader("Content-Type", "text/event-stream")
        if path == "/chunked" { sendHeader("Transfer-Encoding", "chunked") }
        try endHeaders()
        let stream = try openResponseStream(bufferLimit: path == "/small" ? 64 * 1024 : .max)
        box?.streams.withLock { $0.append(stream) }
    }
}

/// The seam for live views: a handler leaves its response open, and another thread pushes
/// bytes into it. Run in this process, on a server of each mode that can hold a stream open
/// while serving others.
@Suite("ResponseStream") struct ResponseStreamTests {
    func startServer(_ mode: String, _ box: StreamBox) throws -> Int {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeout: 20) { socket, client in
            let handler = StreamingHandler(socket: socket, clientAddress: client)
            handler.box = box
            return handler
        }
        let serve: @Sendable () -> Void = mode == "threads"
            ? ThreadingHTTPServer(server, maxConnections: 64).serveForever
            : try EpollHTTPServer(server, maxConnections: 64).serveForever
        try Threads.detach { serve() }
        return server.serverAddress.port
    }

    @Test(arguments: ["threads", "epoll"]) func pushedBytesReachTheClient(mode: String) throws {
        let box = StreamBox()
        let port = try startServer(mode, box)
        let client = try WireClient(port: port)
        try client.send("GET /events HTTP/1.0\r\n\r\n")
        try waitUntil("the handler opened its stream", timeout: 10) { box.first != nil }
        let stream = box.first!
        #expect(stream.push(Array("data: 1\n\n".utf8)))
        #expect(stream.push(Array("data: 2\n\n".utf8)))
        stream.finish()
        let text = String(decoding: try client.readToEnd(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(text.hasSuffix("\r\n\r\ndata: 1\n\ndata: 2\n\n"))   // then the server closed
    }

    @Test(arguments: ["threads", "epoll"]) func aClientThatLeavesEndsTheStream(mode: String) throws {
        let box = StreamBox()
        let port = try startServer(mode, box)
        let client = try WireClient(port: port)
        try client.send("GET /events HTTP/1.0\r\n\r\n")
        try waitUntil("the handler opened its stream", timeout: 10) { box.first != nil }
        let stream = box.first!
        try client.socket.setLinger(seconds: 0)
        try client.socket.close()
        try waitUntil("push reports the connection gone", timeout: 10) { !stream.push(Array("data: x\n\n".utf8)) }
        #expect(stream.isClosed)
    }

    @Test(arguments: ["threads", "epoll"]) func chunkedBody(mode: String) throws {
        let box = StreamBox()
        let port = try startServer(mode, box)
        let client = try WireClient(port: port)
        try client.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
        try waitUntil("the handler opened its stream", timeout: 10) { box.first != nil }
        let stream = box.first!
        #expect(stream.chunked)
        #expect(stream.push(Array("data: 1\n\n".utf8)))
        stream.finish()
        let text = String(decoding: try client.readToEnd(), as: UTF8.self)
        #expect(text.contains("Transfer-Encoding: chunked\r\n"))
        #expect(text.hasSuffix("\r\n\r\n9\r\ndata: 1\n\n\r\n0\r\n\r\n"), "\(text)")
    }

    @Test(arguments: ["threads", "epoll"]) func aClientThatStopsReadingIsDropped(mode: String) throws {
        let box = StreamBox()
        let port = try startServer(mode, box)
        let client = try WireClient(port: port)
        try client.socket.setBufferSizes(receive: 4096)
        try client.send("GET /small HTTP/1.0\r\n\r\n")
        try waitUntil("the handler opened its stream", timeout: 10) { box.first != nil }
        let stream = box.first!
        // The client reads nothing: the socket buffers fill, then the stream's 64 KiB, then it is dropped.
        let block = [UInt8](repeating: 0x61, count: 8192)
        try waitUntil("push reports the client dropped", timeout: 30) { !stream.push(block) }
        try waitUntil("the server closed the connection", timeout: 30) { stream.isClosed }
        #expect(stream.pendingCount == 0, "the buffer was freed")
    }
}
