@preconcurrency import Glibc
import SocketCore

/// Netcat mode: whatever arrives on stdin goes to the server, whatever the server sends goes to
/// stdout, both at once (poll(2) on the two descriptors), in a terminal or a pipe.
///
/// The socket is non-blocking and stdin is read only once the previous block has gone out. A
/// blocking sendAll() here deadlocks on a large pipe (`echo-client < 30MB.bin`): while we wait for
/// room to send, nobody reads the echo, the server blocks sending it and stops reading, and our
/// send buffer never drains. So when the kernel takes only part of a block, we stop reading stdin,
/// ask poll() for POLLOUT, and keep reading the echo meanwhile, as netcat does.
///
/// At the end of stdin (Ctrl-D, or the end of a pipe) we shutdown(SHUT_WR) once everything is
/// sent: the server sees our FIN, and we keep printing what it still sends until it closes its
/// side too: a half-close, as `nc -N` does. When the server closes first, we stop at once.
struct InteractiveSession {
    let socket: Socket
    let recvSize: Int

    func run() throws {
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        let echo = UnsafeMutableRawBufferPointer.allocate(byteCount: recvSize, alignment: 16)
        defer {
            input.deallocate()
            echo.deallocate()
        }
        let stdinDescriptor = STDIN_FILENO, stdoutDescriptor = STDOUT_FILENO
        try socket.setNonBlocking()
        var pending = 0..<0        // bytes of `input` read from stdin that send() has not taken yet
        var stdinOpen = true
        var poller = Poller()

        while true {
            poller.watch(socket.descriptor, events: Int16(POLLIN) | (pending.isEmpty ? 0 : Int16(POLLOUT)))
            if stdinOpen && pending.isEmpty {
                poller.watch(stdinDescriptor, events: Int16(POLLIN))
            } else {
                poller.remove(stdinDescriptor)
            }
            for event in try poller.wait() {
                if event.descriptor == socket.descriptor {
                    if event.isReadable || event.isHangUpOrError {
                        if let count = try receive(into: echo) {
                            if count == 0 { return }   // the server closed: nothing more will come
                            try Syscall.writeAll(stdoutDescriptor, UnsafeRawBufferPointer(rebasing: echo[..<count]))
                        }
                    }
                    if event.isWritable && !pending.isEmpty {
                        let sent = try sendSome(UnsafeRawBufferPointer(rebasing: input[pending]))
                        pending = (pending.lowerBound + sent)..<pending.upperBound
                        if pending.isEmpty && !stdinOpen { try socket.shutdownWrite() }
                    }
                } else {
                    let count = try Syscall.read(stdinDescriptor, into: input)
                    if count == 0 {
                        stdinOpen = false
                        try socket.shutdownWrite()   // nothing is pending: stdin is read only then
                    } else {
                        pending = 0..<count
                    }
                }
            }
        }
    }

    /// One recv(); nil when nothing has arrived after all (EAGAIN).
    private func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try socket.recvIfReady(into: buffer)
    }

    /// One send(); 0 when the send buffer is full (EAGAIN).
    private func sendSome(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        try socket.sendIfReady(bytes) ?? 0
    }
}
