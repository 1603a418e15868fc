import Foundation
import Glibc
import SocketCore
import TestSupport

/// A response as read off the wire.
struct WireResponse {
    var statusLine: String
    var headers: [(String, String)]
    var body: [UInt8]

    var status: Int { Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? -1 }
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A raw HTTP client over SocketCore: sends exact bytes, reads exact bytes.
final class WireClient {
    let socket: Socket
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 120) throws {
        socket = try Socket.connected(host: "127.0.0.1", port: port)
        try socket.setReceiveTimeout(seconds: timeout)
    }

    func send(_ text: String) throws { try socket.sendAll(Array(text.utf8)) }
    func send(bytes: [UInt8]) throws { try socket.sendAll(bytes) }

    /// Reads one response; `head` true for a HEAD request (no body follows).
    func readResponse(head: Bool = false) throws -> WireResponse {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst()
                let headers = lines.map { line -> (String, String) in
                    let colon = line.firstIndex(of: ":")!
                    return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                var response = WireResponse(statusLine: statusLine, headers: headers, body: [])
                let status = response.status
                if head || status == 304 || status == 100 || (100..<200).contains(status) { return response }
                if let length = response.header("Content-Length").flatMap({ Int($0) }) {
                    while buffer.count < length { if try fill() == 0 { break } }
                    response.body = Array(buffer.prefix(length))
                    buffer.removeFirst(min(length, buffer.count))
                } else {
                    while try fill() > 0 {}
                    response.body = buffer
                    buffer = []
                }
                return response
            }
            if try fill() == 0 { throw WireError.closedEarly(String(decoding: buffer, as: UTF8.self)) }
        }
    }

    /// Everything until the server closes.
    func readToEnd() throws -> [UInt8] {
        while try fill() > 0 {}
        defer { buffer = [] }
        return buffer
    }

    /// True when the server has closed (recv returns 0) within the timeout.
    func isClosedByServer() -> Bool {
        (try? fill()) == 0
    }

    private func fill() throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = try chunk.withUnsafeMutableBytes { try socket.recv(into: $0) }
        buffer += chunk.prefix(n)
        return n
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] && Array(buffer[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}

enum WireError: Error { case closedEarly(String) }

/// One request on a new connection.
func fetch(_ port: Int, _ request: String, head: Bool = false) throws -> WireResponse {
    let client = try WireClient(port: port)
    try client.send(request)
    return try client.readResponse(head: head)
}

/// `GET path HTTP/1.0` on a new connection.
func get(_ port: Int, _ path: String, headers: [String] = []) throws -> WireResponse {
    try fetch(port, "GET \(path) HTTP/1.0\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
}

/// A fresh folder under /tmp, removed by `remove()`.
struct TempFolder {
    let path: String

    init(_ label: String = "http") throws {
        let template = "/tmp/sockettutor-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else { throw WireError.closedEarly("mkdtemp failed") }
        path = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func mkdir(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + name, withIntermediateDirectories: true)
    }

    func symlink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: target)
    }

    /// Creates a file whose name is raw bytes (possibly not UTF-8).
    func writeRaw(name: [UInt8], contents: String) {
        let full = Array(path.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = full.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func setModified(_ name: String, epoch: Int) {
        var times = [timespec(tv_sec: epoch, tv_nsec: 0), timespec(tv_sec: epoch, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path + "/" + name, &times, 0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Starts http-server on port 0 and returns it with its port.
func startServer(_ folder: String, _ extra: [String] = []) throws -> (ToolProcess, Int) {
    let server = try ToolProcess("http-server", ["0", "-d", folder] + extra)
    let port = try server.waitForPort(containing: "Serving HTTP on")
    return (server, port)
}
