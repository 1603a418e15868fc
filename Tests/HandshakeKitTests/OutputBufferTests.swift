import Glibc
import HandshakeKit
import Testing

/// How OutputBuffer's lines leave in write(2) calls. Written into a SOCK_SEQPACKET socket pair,
/// where every write(2) is one record and every recv(2) reads one: the records are the writes.
@Suite("OutputBuffer writes")
struct OutputBufferTests {
    /// The buffer on one end of a socket pair, and a reader of the other end's records.
    final class RecordingPair {
        let file: UnsafeMutablePointer<FILE>
        let reader: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            try #require(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0)
            var size: Int32 = 1 << 20
            setsockopt(ends[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(ends[1], SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            file = try #require(fdopen(ends[0], "w"))
            reader = ends[1]
        }

        /// Every record written so far, each as text.
        func records() -> [String] {
            var found: [String] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = recv(reader, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count <= 0 { break }
                found.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
            return found
        }

        deinit {
            fclose(file)
            close(reader)
        }
    }

    /// A terminal, `--pace`, and `-- COMMAND` (the program shares our stdout): each line leaves
    /// in one write(2), so a line of ours up to PIPE_BUF is atomic in a pipe, and the program's
    /// own output cannot land inside it.
    @Test("per line: one write per line")
    func perLine() throws {
        let pair = try RecordingPair()
        let output = OutputBuffer(file: pair.file, flushesEachLine: true)
        for number in 0..<20 {
            output.string("line \(number)")
            output.endLine()
        }
        #expect(pair.records() == (0..<20).map { "line \($0)\n" })
    }
}
