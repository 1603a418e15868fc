@preconcurrency import Glibc

extension Syscall {
    /// send(2) with `MSG_MORE`: "more is coming, hold this in the kernel". An HTTP server sends
    /// its response headers this way right before sendfile(2), so headers and the first bytes of
    /// the file leave in the same TCP segment instead of a tiny segment of their own.
    public static func sendMore(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try call("send", "fd \(fd), \(bytes.count) bytes, MSG_MORE", result: { "\($0)" }) {
            Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_MORE))
        }
    }
}

extension Syscall {
    /// recv(2) with `MSG_DONTWAIT`: takes what has arrived, or returns nil at once (EAGAIN)
    /// instead of blocking, even on a blocking socket. Lets a caller learn that the next
    /// recv() would wait before it waits.
    public static func recvIfReady(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        do {
            return try call("recv", "fd \(fd), \(buffer.count), MSG_DONTWAIT",
                            result: { $0 == 0 ? "0 (peer closed)" : "\($0)" }) {
                Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            }
        } catch let error as SocketError where error.isWouldBlock {
            return nil
        }
    }
}
