@preconcurrency import Glibc
import FuzzSupport
import HTTPServerKit
import SocketCore

/// `http-request`: the request line, the header lines and the body-framing decision.
///
/// Each input is sent whole, as one client's bytes, over a socket pair to a real RequestHandler
/// (HTTP/1.1, so pipelined requests and bodies are framed); then its output is read back. The
/// responses must be well-formed HTTP: status lines, header lines without a stray CR or LF (no
/// response splitting), bodies as long as their Content-Length, and no more responses than
/// requests. The access log must hold one line per message and no control characters (no log
/// forging). The line parsers are also checked on every line of the input on their own.
final class FuzzHandler: RequestHandler {
    override func doGET() throws { try answer(body: Array("hello\n".utf8), sendBody: true) }
    override func doHEAD() throws { try answer(body: Array("hello\n".utf8), sendBody: false) }

    /// POST echoes its body: the framing decision (Content-Length) read through the handler.
    override func doPOST() throws {
        guard let text = headers["Content-Length"], let length = Int(text), (0...65_536).contains(length) else {
            try sendError(411)
            return
        }
        let body = try rfile.read(count: length)
        try answer(body: Array("echo:".utf8) + body, sendBody: true)
    }

    private func answer(body: [UInt8], sendBody: Bool) throws {
        sendResponse(200)
        sendHeader("Content-Length", String(body.count))
        try endHeaders()
        if sendBody { try wfile.write(body) }
    }
}

/// stderr goes to this unnamed temporary file while the handler runs, so its log lines can be checked.
let logDescriptor: Int32 = fileno(tmpfile())

func check(_ input: UnsafeBufferPointer<UInt8>) {
    checkLineParsers(input)
    let (output, log) = serve(input)
    checkResponses(output, requestLines: input.lazy.filter { $0 == 0x0A }.count + 1)
    checkLog(log)
}

/// Runs the handler over a socket pair with `input` as everything the client sends.
func serve(_ input: UnsafeBufferPointer<UInt8>) -> (output: [UInt8], log: [UInt8]) {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { fatalError("socketpair: \(errno)") }
    let server = Socket(descriptor: pair[0]), client = Socket(descriptor: pair[1])
    defer { try? server.close(); try? client.close() }
    // Room for every answer, so the handler never blocks while the client is not reading yet.
    try? server.setBufferSizes(send: 1 << 20)
    try? client.setBufferSizes(receive: 1 << 20)
    try? client.sendAll(UnsafeRawBufferPointer(input))
    try? client.shutdownWrite()

    let savedStderr = dup(2)
    ftruncate(logDescriptor, 0)
    lseek(logDescriptor, 0, SEEK_SET)
    dup2(logDescriptor, 2)
    let handler = FuzzHandler(socket: server, clientAddress: "127.0.0.1")
    handler.protocolVersion = "HTTP/1.1"
    handler.handle()
    dup2(savedStderr, 2)
    close(savedStderr)

    try? server.shutdownWrite()
    var output: [UInt8] = []
    while let chunk = try? client.recv(maxBytes: 65_536), !chunk.isEmpty { output += chunk }
    var log = [UInt8](repeating: 0, count: Int(lseek(logDescriptor, 0, SEEK_END)))
    _ = log.withUnsafeMutableBytes { pread(logDescriptor, $0.baseAddress, $0.count, 0) }
    return (output, log)
}

/// The line parsers alone: words without white space, versions that read back, trimmed names.
func checkLineParsers(_ input: UnsafeBufferPointer<UInt8>) {
    for line in input.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(64) {
        let bytes = Array(line)
        invariant(RequestParser.latin1Bytes(RequestParser.latin1(bytes)) == bytes, "ISO-8859-1 round trip")
        if case let .request(command, path, version, major, minor) = RequestParser.parseRequestLine(bytes) {
            invariant(!command.isEmpty && !path.isEmpty, "empty command or path")
            invariant(!path.hasPrefix("//"), "a path starting with // (read as another host in Location)")
            if version != "HTTP/0.9" {
                let parsed = RequestParser.parseVersion(version)
                invariant(parsed?.major == major && parsed?.minor == minor && major < 2, "version \(version) vs \(major).\(minor)")
            }
        }
        if case let .field(name, value) = RequestParser.parseHeaderLine(bytes) {
            invariant(!name.isEmpty && !name.contains(":"), "header name \(name)")
            for text in [name, value] {
                invariant(text.first != " " && text.first != "\t" && text.last != " " && text.last != "\t", "untrimmed \(text)")
            }
        }
    }
}

/// The output as a sequence of HTTP/1.x responses (an HTTP/0.9 answer is a bare body: not checked).
func checkResponses(_ output: [UInt8], requestLines: Int) {
    let crlf2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
    var position = 0, responses = 0
    while position < output.count {
        let rest = output[position...]
        guard rest.starts(with: "HTTP/1.".utf8) else {
            // An HTTP/0.9 answer (a one- or two-word request line, as Python reads it) is a bare
            // body, and the last thing on the connection.
            invariant(responses == 0 || ["<!DOCTYPE HTML>", "hello\n", "echo:"].contains { rest.starts(with: $0.utf8) },
                      "bytes after response \(responses) are not a response: \(shown(output))")
            return
        }
        guard let end = rest.firstRange(of: crlf2) else {
            invariant(false, "a response head without its empty line")
            return
        }
        let lines = output[position..<end.lowerBound].split(separator: [0x0D, 0x0A], omittingEmptySubsequences: false)
        let status = Array(lines[0])
        invariant(status.count >= 13 && status[8] == 0x20 && status[9...11].allSatisfy { (0x30...0x39).contains($0) }
                  && status[12] == 0x20, "status line \(String(decoding: status, as: UTF8.self))")
        var contentLength: Int?
        for line in lines.dropFirst() {
            invariant(!line.contains(0x0A) && !line.contains(0x0D), "a CR or LF inside a header line")
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                invariant(false, "a header line without a colon")
                return
            }
            if RequestParser.latin1(line[..<colon]).lowercased() == "content-length" {
                contentLength = Int(RequestParser.latin1(line[(colon + 2)...]))
            }
        }
        position = end.upperBound
        responses += 1
        if let length = contentLength, status[9] != UInt8(ascii: "1") {
            // A HEAD answer has the Content-Length of the body it does not send. (No body here
            // starts with "HTTP/1.": POST answers prefix what they echo.)
            // A HEAD answer (Content-Length 6, for "hello\n") may be followed by an HTTP/0.9 error page.
            let headAnswer = position == output.count || output[position...].starts(with: "HTTP/1.".utf8)
                || (length == 6 && output[position...].starts(with: "<!DOCTYPE HTML>".utf8))
            if !headAnswer {
                invariant(position + length <= output.count, "a body shorter than its Content-Length")
                position += length
            }
        }
    }
    invariant(responses <= 2 * requestLines, "\(responses) responses to \(requestLines) lines")
}

/// The output for an invariant's message, control bytes escaped.
func shown(_ bytes: [UInt8]) -> String {
    bytes.prefix(600).map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
}

/// One log line per message: each `127.0.0.1 - - [date] text\n`, no other control character.
func checkLog(_ log: [UInt8]) {
    for line in log.split(separator: 0x0A) {
        invariant(line.starts(with: "127.0.0.1 - - [".utf8), "a log line not written by logMessage (forged?)")
        invariant(!line.contains { $0 < 0x20 || $0 == 0x7F }, "a control character in a log line")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("HTTPRequestFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    return runFuzzer(argc, argv, fuzzOne)
}
