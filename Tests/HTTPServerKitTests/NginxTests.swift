import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

/// nginx on a folder, for differential tests: a single foreground process (no master), its
/// files in a temporary folder, stopped with the test.
final class NginxPeer {
    static let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    let process: ToolProcess
    let port: Int
    private let work: TempFolder

    init(root: String) throws {
        guard let binary = NginxPeer.binary else { throw HarnessFailure("nginx is not installed (scripts/setup nginx)") }
        work = try TempFolder("nginx")
        port = try NginxPeer.freePort()
        let config = """
            \(geteuid() == 0 ? "user root root;" : "")
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(work.path)/nginx.pid;
            error_log \(work.path)/error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(work.path)/body;
                proxy_temp_path \(work.path)/proxy;
                fastcgi_temp_path \(work.path)/fastcgi;
                uwsgi_temp_path \(work.path)/uwsgi;
                scgi_temp_path \(work.path)/scgi;
                default_type text/plain;
                server { listen 127.0.0.1:\(port); root \(root); }
            }
            """
        try work.write("nginx.conf", config)
        process = try ToolProcess(binary, ["-p", work.path, "-c", work.path + "/nginx.conf", "-e", work.path + "/error.log"])
        try waitUntil("nginx answers on port \(port)", timeout: 15) {
            (try? Socket.connected(host: "127.0.0.1", port: port)) != nil
        }
    }

    deinit {
        process.stop()
        work.remove()
    }

    /// A port nobody listens on right now (bind to 0, read it, close).
    static func freePort() throws -> Int {
        let socket = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? socket.close() }
        return socket.localAddress!.port
    }
}

/// One part of a `multipart/byteranges` body: its Content-Range and its bytes.
struct BodyPart: Equatable, CustomStringConvertible {
    let contentRange: String
    let bytes: [UInt8]
    var description: String { "\(contentRange): \(bytes.count) bytes" }

    /// The parts of a 206 response: one for a single range, each part of a multipart body.
    static func parts(of response: WireResponse) -> [BodyPart] {
        guard let type = response.header("Content-Type"), type.hasPrefix("multipart/byteranges"),
              let boundary = type.components(separatedBy: "boundary=").last else {
            return [BodyPart(contentRange: response.header("Content-Range") ?? "", bytes: response.body)]
        }
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var parts: [BodyPart] = []
        var rest = response.body[...]
        while let start = rest.firstRange(of: delimiter) {
            rest = rest[start.upperBound...]
            if rest.starts(with: Array("--".utf8)) { break }
            guard let headEnd = rest.firstRange(of: Array("\r\n\r\n".utf8)) else { break }
            let head = String(decoding: rest[..<headEnd.lowerBound], as: UTF8.self)
            let range = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-range:") }
            rest = rest[headEnd.upperBound...]
            let end = rest.firstRange(of: delimiter)?.lowerBound ?? rest.endIndex
            parts.append(BodyPart(contentRange: range.map { String($0.dropFirst(14)).trimmingCharacters(in: .whitespaces) } ?? "",
                                  bytes: Array(rest[..<end])))
            rest = rest[end...]
        }
        return parts
    }
}

@Suite("HTTPServer vs nginx", .enabled(if: NginxPeer.binary != nil)) struct NginxDifferentialTests {
    /// The framing rules: nginx refuses each shape with 400 too.
    @Test func framingIsRefusedLikeNginx() throws {
        let f = try Fixture(["-p", "HTTP/1.1"])
        chmod(f.folder.path, 0o755)
        let nginx = try NginxPeer(root: f.root)
        for (rule, header) in FramingTests.refused {
            let request = "POST /a.txt HTTP/1.1\r\n" + header + "Host: x\r\n\r\n" + FramingTests.smuggled
            let ours = try fetch(f.port, request)
            let theirs = try fetch(nginx.port, request)
            #expect(ours.status == 400, "\(rule)")
            #expect(theirs.status == 400, "\(rule): nginx answered \(theirs.status)")
        }
    }

    /// Ranges: the same status, Content-Range values and bytes as nginx, for one range and
    /// several, overlapping, out of order, past the end, and malformed.
    @Test func rangesLikeNginx() throws {
        let f = try Fixture(["-p", "HTTP/1.1"])
        chmod(f.folder.path, 0o755)
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        _ = FileManager.default.createFile(atPath: f.root + "/data.bin", contents: Data(data))
        let nginx = try NginxPeer(root: f.root)
        let ranges = [
            "bytes=0-9", "bytes=-10", "bytes=990-", "bytes=0-9,20-29", "bytes=20-29,0-9", "bytes=0-9, 500-", "bytes=-5,0-4",
            "bytes=0-9,5-14", "bytes=0-499,400-999", "bytes=0-999,0-0", "bytes=0-9,2000-3000", "bytes=2000-,3000-",
            "bytes=0-9,x", "bytes=0-9,,20-29", "bytes=5-3,0-1", "bytes=0-0,2-2,4-4,6-6,8-8", "bytes= 1 - 2 , 4 - 5",
        ]
        for range in ranges {
            let request = "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: \(range)\r\nConnection: close\r\n\r\n"
            let ours = try fetch(f.port, request)
            let theirs = try fetch(nginx.port, request)
            #expect(ours.status == theirs.status, "\(range)")
            if theirs.status == 206 {
                #expect(BodyPart.parts(of: ours) == BodyPart.parts(of: theirs), "\(range)")
            } else if theirs.status == 416 {
                #expect(ours.header("Content-Range") == theirs.header("Content-Range"), "\(range)")
            }
        }
    }
}
