@preconcurrency import Glibc
import SocketCore

/// Netcat mode: whatever arrives on stdin goes to the server, whatever the server sends goes to
/// stdout, both at once (poll(2) on the two descriptors), in a terminal or a pipe.
///
/// At the end of stdin (Ctrl-D, or the end of a pipe) we shutdown(SHUT_WR): the server sees our FIN,
/// and we keep printing what it still sends until it closes its side too: a half-close, as
/// `nc -N` does. When the server closes first, we stop at once.
struct InteractiveSession {
    let socket: Socket
    let recvSize: Int

    func run() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(recvSize, 4096), alignment: 16)
        defer { buffer.deallocate() }
        let stdinDescriptor = STDIN_FILENO, stdoutDescriptor = STDOUT_FILENO
        var poller = Poller()
        poller.watch(socket.descriptor, events: Int16(POLLIN))
        poller.watch(stdinDescriptor, events: Int16(POLLIN))

        while true {
            for event in try poller.wait() {
                if event.descriptor == socket.descriptor {
                    let count = try socket.recv(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<recvSize]))
                    if count == 0 { return }   // the server closed: nothing more will come
                    try Syscall.writeAll(stdoutDescriptor, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                } else {
                    let count = try Syscall.read(stdinDescriptor, into: buffer)
                    if count == 0 {
                        poller.remove(stdinDescriptor)
                        try socket.shutdownWrite()
                    } else {
                        try socket.sendAll(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    }
                }
            }
        }
    }
}
