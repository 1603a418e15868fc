import Foundation
import Glibc
import HTTPServerKit
import SocketCore
import Testing

/// Inputs the fuzz targets (Fuzz/) found, replayed through the same public API they drove.
/// Each input is also in Fuzz/Corpus/<target>/ under a `regression-` name.
@Suite("Fuzz regressions") struct FuzzRegressionTests {
    /// A handler whose POST reads its body, as lesson 9's handlers do.
    final class EchoPostHandler: RequestHandler {
        override func doGET() throws { try answer(Array("hello\n".utf8)) }
        override func doPOST() throws {
            let length = Int(headers["Content-Length"] ?? "") ?? 0
            try answer(try rfile.read(count: length))
        }
        private func answer(_ body: [UInt8]) throws {
            sendResponse(200)
            sendHeader("Content-Length", String(body.count))
            try endHeaders()
            try wfile.write(body)
        }
        override func logMessage(_ message: String) {}
    }

    /// Sends `request` whole (then end of stream) to an HTTP/1.1 handler; returns all it wrote.
    static func serve(_ request: String) throws -> String {
        var pair: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let server = Socket(descriptor: pair[0]), client = Socket(descriptor: pair[1])
        defer { try? server.close(); try? client.close() }
        try client.sendAll(Array(request.utf8))
        try client.shutdownWrite()
        let handler = EchoPostHandler(socket: server, clientAddress: "127.0.0.1")
        handler.protocolVersion = "HTTP/1.1"
        handler.handle()
        try server.shutdownWrite()
        var output: [UInt8] = []
        while case let chunk = try client.recv(maxBytes: 65_536), !chunk.isEmpty { output += chunk }
        return String(decoding: output, as: UTF8.self)
    }

    /// http-request: a body the method read was skipped a second time, so the next pipelined
    /// request lost its first bytes and was answered as a broken HTTP/0.9 request.
    @Test func bodyReadByTheMethodIsNotSkippedAgain() throws {
        let output = try Self.serve("POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\nHTTP/1.1GET / HTTP/1.1\r\n\r\n")
        #expect(output.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3, "two answers: \(output)")
        #expect(output.hasSuffix("\r\n\r\nhello\n"))
        #expect(!output.contains("Bad request"))
    }

    /// http-request: with two Content-Length values the handler read one length and the rest of
    /// the body was taken for the next request. Now such a request is refused (RFC 9112 §6.3).
    @Test func conflictingContentLengthsAreRefused() throws {
        let output = try Self.serve("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        #expect(output.hasPrefix("HTTP/1.1 400 Conflicting Content-Length values\r\n"), "\(output)")
        #expect(output.contains("Connection: close\r\n"))
        #expect(output.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer only: \(output)")
        // The same length twice is not a conflict.
        let same = try Self.serve("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-length: 5\r\n\r\nhello")
        #expect(same.hasPrefix("HTTP/1.1 200 OK\r\n") && same.hasSuffix("\r\n\r\nhello"), "\(same)")
    }

    /// An unread body is still skipped, so the request behind it is read from its first byte.
    @Test func unreadBodyIsSkipped() throws {
        let output = try Self.serve("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nxxxxxGET / HTTP/1.1\r\n\r\n")
        #expect(output.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3, "two answers: \(output)")
        #expect(!output.contains("Bad request"))
    }
}
