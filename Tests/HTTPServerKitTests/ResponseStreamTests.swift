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

/// A body of `pieces` pieces of 8 KiB (piece n filled with the letter n % 26), counting how
/// many the server has asked for.
final class CountingSource: ResponseSource {
    let pieces: Int
    let asked = Atomic<Int>(0)
    init(pieces: Int) { self.pieces = pieces }

    func nextPiece() -> [UInt8]? {
        let n = asked.add(1, ordering: .relaxed).oldValue
        return n < pieces ? Self.piece(n) : nil
    }

    static func piece(_ n: Int) -> [UInt8] { [UInt8](repeating: 0x61 + UInt8(n % 26), count: 8192) }
}

/// The sources handlers made, for the test to look at.
final class SourceBox: Sendable {
    let sources = Mutex<[CountingSource]>([])
    var first: CountingSource? { sources.withLock { $0.first } }
}

/// `/source?N` answers with a CountingSource of N pieces (chunked for HTTP/1.1); anything else, 404.
final class SourceHandler: RequestHandler {
    var box: SourceBox?
    override func doGET() throws {
        guard path.hasPrefix("/source?"), let count = Int(path.dropFirst(8)) else { return try sendError(404) }
        protocolVersion = "HTTP/1.1"
        sendResponse(200)
        if requestVersion == "HTTP/1.1" { sendHeader("Transfer-Encoding", "chunked") }
        try endHeaders()
        let source = CountingSource(pieces: count)
        box?.sources.withLock { $0.append(source) }
        _ = try openResponseStream(source: source)
    }
}

/// A body made as the client reads it (`ResponseSource`): whole and in order for a reader, and
/// asked for no further than the socket takes for a client that reads nothing.
@Suite("ResponseSource") struct ResponseSourceTests {
    func startServer(_ mode: String, _ box: SourceBox) throws -> Int {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeout: 20) { socket, client in
            let handler = SourceHandler(socket: socket, clientAddress: client)
            handler.box = box
            return handler
        }
        let serve: @Sendable () -> Void = mode == "threads"
            ? ThreadingHTTPServer(server, maxConnections: 64).serveForever
            : try EpollHTTPServer(server, maxConnections: 64).serveForever
        try Threads.detach { serve() }
        return server.serverAddress.port
    }

    @Test(arguments: ["threads", "epoll"]) func aReaderGetsTheWholeBodyInOrder(mode: String) throws {
        let port = try startServer(mode, SourceBox())
        for version in ["HTTP/1.0", "HTTP/1.1"] {
            let client = try WireClient(port: port)
            try client.send("GET /source?300 \(version)\r\nHost: x\r\n\r\n")
            let text = try client.readToEnd()
            let body = Array(text[(text.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound)...])
            var expected: [UInt8] = []
            for n in 0 ..< 300 {
                let piece = CountingSource.piece(n)
                expected += version == "HTTP/1.1" ? Array("2000\r\n".utf8) + piece + Array("\r\n".utf8) : piece
            }
            if version == "HTTP/1.1" { expected += Array("0\r\n\r\n".utf8) }
            #expect(body == expected, "\(mode) \(version): \(body.count) bytes, wanted \(expected.count)")
        }
    }

    @Test("epoll: a client that reads nothing is made no more of the body than its socket takes, and holds no worker")
    func aNonReaderStopsTheSource() throws {
        let box = SourceBox()
        let port = try startServer("epoll", box)
        let client = try WireClient(port: port)
        try client.socket.setBufferSizes(receive: 4096)
        try client.send("GET /source?100000 HTTP/1.0\r\n\r\n")   // 800 MB, were it all made
        try waitUntil("the server began the body", timeout: 30) { (box.first?.asked.load(ordering: .relaxed) ?? 0) > 1 }
        // Other clients are served meanwhile, each to its end.
        for _ in 0 ..< 10 {
            let other = try WireClient(port: port)
            try other.send("GET /source?3 HTTP/1.0\r\n\r\n")
            #expect(try other.readToEnd().count > 3 * 8192)
        }
        let asked = box.first!.asked.load(ordering: .relaxed)
        #expect(asked < 2_000, "\(asked) pieces made (16 MB) for a client that reads nothing")
    }
}
